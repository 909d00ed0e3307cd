import {
  type InventoryDevice,
  type PreProvisioningHookEvent,
  type ProvisioningInventory,
  TEMPLATE_PARAMETER,
  thingNameProblem,
} from '../../contracts';

/**
 * The pre-provisioning hook's decision, free of any AWS SDK: a device may register only as a
 * thing of this building's inventory, in the zone the inventory gives it, and only while no
 * other key holds an active certificate of that thing.
 *
 * Re-provisioning is idempotent for the device that holds the key: a device that lost the
 * answer to RegisterThing (or its bundle) and asks again with a certificate for the same public
 * key is allowed, and gets the same thing. A different key for a thing that already has an
 * active certificate is refused, because otherwise anyone holding a claim could take over a
 * working device's identity; the operator revokes the old certificate first (`zonectl revoke`).
 */

/** A certificate attached to the thing, as the handler found it. */
export interface AttachedCertificate {
  readonly certificateId: string;
  readonly status: string;
  /** True when it certifies the same public key as the certificate asking to register. */
  readonly sameKey: boolean;
}

export type HookDecision =
  | { readonly allow: true; readonly thing: string; readonly parameterOverrides: Record<string, string> }
  | { readonly allow: false; readonly thing?: string; readonly reason: string };

/** What the hook must look up before deciding: the thing it would register, if the request is well formed. */
export function thingOf(
  event: PreProvisioningHookEvent,
  inventory: ProvisioningInventory,
): { thing: string; device: InventoryDevice } | { reason: string; thing?: string } {
  const thing = event.parameters[TEMPLATE_PARAMETER.thingName];
  const problem = thingNameProblem(thing, inventory.building);
  if (problem) return { reason: problem, ...(thing ? { thing } : {}) };
  const device = inventory.devices[thing!];
  if (!device) {
    return {
      thing: thing!,
      reason: `'${thing}' is not in the device inventory of building '${inventory.building}'; add it to the building config and deploy, or check the name on the device's label`,
    };
  }
  return { thing: thing!, device };
}

export function decide(
  event: PreProvisioningHookEvent,
  inventory: ProvisioningInventory,
  attached: readonly AttachedCertificate[],
): HookDecision {
  const found = thingOf(event, inventory);
  if ('reason' in found)
    return { allow: false, reason: found.reason, ...(found.thing ? { thing: found.thing } : {}) };
  const { thing, device } = found;
  const zone = event.parameters[TEMPLATE_PARAMETER.zone];
  if (zone !== undefined && zone !== '' && zone !== device.zone) {
    return {
      allow: false,
      thing,
      reason: `'${thing}' belongs in zone '${device.zone}' by the inventory, not '${zone}'; install it there, or change its zone in the building config and deploy`,
    };
  }
  const holder = attached.find(
    (c) => c.status === 'ACTIVE' && c.certificateId !== event.certificateId && !c.sameKey,
  );
  if (holder) {
    return {
      allow: false,
      thing,
      reason: `'${thing}' is already provisioned with certificate ${holder.certificateId}, made for another key; to replace the device, revoke that certificate first (zonectl revoke ${thing} --certificate-id ${holder.certificateId})`,
    };
  }
  return {
    allow: true,
    thing,
    parameterOverrides: {
      [TEMPLATE_PARAMETER.zone]: device.zone,
      [TEMPLATE_PARAMETER.kind]: device.kind,
      [TEMPLATE_PARAMETER.senses]: device.senses.join(','),
      [TEMPLATE_PARAMETER.drives]: device.drives.join(','),
    },
  };
}
