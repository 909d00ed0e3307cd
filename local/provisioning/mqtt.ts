/**
 * The device provisioning MQTT API (AWS IoT Developer Guide, "Device provisioning MQTT API"):
 * CreateCertificateFromCsr on `$aws/certificates/create-from-csr/json`, CreateKeysAndCertificate
 * on `$aws/certificates/create/json` and RegisterThing on
 * `$aws/provisioning-templates/<name>/provision/json`, each answered on `.../accepted` or
 * `.../rejected` to the requesting connection only.
 *
 * RegisterThing, in order: the ownership token (valid, not expired, its certificate still
 * PENDING_ACTIVATION or already registered to the same thing), the template (exists, enabled,
 * fleet), the pre-provisioning hook through the local Lambda runtime (an error, a timeout
 * or anything but `allowProvisioning: true` denies), the hook's parameterOverrides merged into
 * the parameters, the template evaluated, then the registry changed: the thing created or
 * updated, policies attached, the certificate attached to the thing, the certificate activated
 * last. A failure at any step undoes the steps before it, so nothing half-created remains: no
 * new thing, no attachment, no active certificate.
 *
 * LIMITATIONS versus AWS: json payloads only (a cbor request is rejected on its cbor topic with
 * UnsupportedPayloadFormat); a RegisterThing repeated with the same token for the same thing
 * while the token is valid answers again (AWS does not document a repeated request); error
 * codes other than InvalidCertificateOwnershipToken are this emulator's choice.
 */
import { randomBytes } from 'node:crypto';
import type { BrokerMessage, MessageBus } from '../broker';
import { type CloudIdentity, errorText, type LocalLogger } from '../common';
import type { IotRegistry } from '../iot';
import {
  checkTemplateBody,
  type PlannedThing,
  type ProvisioningPlan,
  planProvisioning,
  TemplateError,
} from './engine';
import { type ProvisioningRejection, rejection } from './errors';
import type { ProvisioningStore } from './store';
import { defaultBody } from './templates';
import type { InvokeHook, ProvisioningTemplates } from './types';

export const REQUEST_FILTERS = [
  '$aws/certificates/create-from-csr/+',
  '$aws/certificates/create/+',
  '$aws/provisioning-templates/+/provision/+',
] as const;

export interface MqttApiDeps {
  readonly bus: MessageBus;
  readonly registry: IotRegistry;
  readonly store: ProvisioningStore;
  readonly templates: ProvisioningTemplates;
  readonly invokeHook: InvokeHook;
  readonly identity: CloudIdentity;
  readonly log: LocalLogger;
  readonly now: () => number;
  readonly tokenTtlMs: number;
  readonly hookTimeoutMs: number;
}

type Reply = { accepted: object } | { rejected: ProvisioningRejection };

/** A minimal CBOR encoding of a map of text strings and small unsigned integers (RFC 8949). */
function cborMap(value: Record<string, string | number>): Buffer {
  const head = (major: number, n: number): Buffer =>
    n < 24
      ? Buffer.from([(major << 5) | n])
      : n < 256
        ? Buffer.from([(major << 5) | 24, n])
        : Buffer.from([(major << 5) | 25, n >> 8, n & 0xff]);
  const parts: Buffer[] = [head(5, Object.keys(value).length)];
  for (const [k, v] of Object.entries(value)) {
    for (const item of [k, v]) {
      if (typeof item === 'number') parts.push(head(0, item));
      else {
        const bytes = Buffer.from(item, 'utf8');
        parts.push(head(3, bytes.length), bytes);
      }
    }
  }
  return Buffer.concat(parts);
}

export function createMqttApi(deps: MqttApiDeps): (message: BrokerMessage) => Promise<void> {
  const { registry, store, log } = deps;
  /** One RegisterThing at a time per thing name, so two devices cannot race for one thing. */
  const locks = new Map<string, Promise<void>>();
  const withLock = async <T>(key: string, fn: () => Promise<T>): Promise<T> => {
    const before = locks.get(key) ?? Promise.resolve();
    let release: () => void = () => undefined;
    const mine = new Promise<void>((resolve) => {
      release = resolve;
    });
    const chained = before.then(() => mine);
    locks.set(key, chained);
    await before;
    try {
      return await fn();
    } finally {
      release();
      if (locks.get(key) === chained) locks.delete(key);
    }
  };

  const issueToken = (certificateId: string): string => {
    const token = randomBytes(32).toString('base64url');
    store.update((s) => {
      s.tokens[token] = { certificateId, expiresAt: deps.now() + deps.tokenTtlMs };
    });
    return token;
  };

  const parse = (payload: Buffer): Record<string, unknown> => {
    let json: unknown;
    try {
      json = payload.length === 0 ? {} : JSON.parse(payload.toString('utf8'));
    } catch {
      throw rejection.badPayload('The request payload is not valid JSON');
    }
    if (json === null || typeof json !== 'object' || Array.isArray(json)) {
      throw rejection.badPayload('The request payload must be a JSON object');
    }
    return json as Record<string, unknown>;
  };

  async function createFromCsr(payload: Buffer): Promise<Reply> {
    const csr = parse(payload).certificateSigningRequest;
    if (typeof csr !== 'string' || csr === '')
      throw rejection.badCsr('certificateSigningRequest is required');
    let created: Awaited<ReturnType<IotRegistry['createPendingCertificate']>>;
    try {
      created = await registry.createPendingCertificate(csr);
    } catch (error) {
      throw rejection.badCsr((error as Error).message);
    }
    return {
      accepted: {
        certificateId: created.certificateId,
        certificatePem: created.certificatePem,
        certificateOwnershipToken: issueToken(created.certificateId),
      },
    };
  }

  async function createKeysAndCertificate(): Promise<Reply> {
    const created = await registry.createPendingCertificate();
    return {
      accepted: {
        certificateId: created.certificateId,
        certificatePem: created.certificatePem,
        privateKey: created.keyPair?.PrivateKey,
        certificateOwnershipToken: issueToken(created.certificateId),
      },
    };
  }

  async function callHook(
    functionArn: string,
    event: object,
  ): Promise<{ allowed: boolean; overrides: Record<string, string>; why: string }> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<{ error: string }>((resolve) => {
      timer = setTimeout(
        () => resolve({ error: `no answer within ${deps.hookTimeoutMs / 1000} s` }),
        deps.hookTimeoutMs,
      );
    });
    const outcome = await Promise.race([
      deps.invokeHook(functionArn, event).catch((e) => ({ error: errorText(e) })),
      timeout,
    ]);
    clearTimeout(timer);
    if ('error' in outcome && outcome.error !== undefined)
      return { allowed: false, overrides: {}, why: `the hook failed: ${outcome.error}` };
    const answer = (outcome as { payload?: unknown }).payload as
      | { allowProvisioning?: unknown; parameterOverrides?: unknown }
      | undefined;
    if (answer?.allowProvisioning !== true)
      return { allowed: false, overrides: {}, why: 'the hook did not allow it' };
    const overrides: Record<string, string> = {};
    if (answer.parameterOverrides && typeof answer.parameterOverrides === 'object') {
      for (const [k, v] of Object.entries(answer.parameterOverrides as Record<string, unknown>)) {
        if (typeof v === 'string') overrides[k] = v;
      }
    }
    return { allowed: true, overrides, why: '' };
  }

  /** Applies a plan to the registry; every step is undone when a later one fails. */
  function apply(plan: ProvisioningPlan, certificateId: string): string | undefined {
    const undo: Array<() => void> = [];
    const certificateArn = registry.certificateArn(certificateId);
    try {
      let thingName: string | undefined;
      if (plan.thing) {
        thingName = plan.thing.thingName;
        applyThing(plan.thing, undo);
      }
      for (const policy of plan.policies) {
        let existing: { policyDocument: string } | undefined;
        try {
          existing = registry.getPolicy(policy.policyName);
        } catch {
          existing = undefined;
        }
        if (!existing) {
          if (policy.document === undefined) {
            throw rejection.parameters(
              `Policy ${policy.policyName} does not exist; create it or give its document in the template`,
            );
          }
          registry.createPolicy(policy.policyName, policy.document);
          undo.push(() => registry.deletePolicy(policy.policyName));
        }
        registry.attachPolicy(policy.policyName, certificateArn);
        undo.push(() => registry.detachPolicy(policy.policyName, certificateArn));
      }
      if (thingName) {
        registry.attachThingPrincipal(thingName, certificateArn);
        undo.push(() => registry.detachThingPrincipal(thingName!, certificateArn));
      }
      if (plan.certificate) registry.updateCertificate(certificateId, plan.certificate.status);
      return thingName;
    } catch (error) {
      for (const step of undo.reverse()) {
        try {
          step();
        } catch (undoError) {
          log.error(`could not undo a provisioning step: ${errorText(undoError)}`);
        }
      }
      throw error;
    }
  }

  function applyThing(thing: PlannedThing, undo: Array<() => void>): void {
    let existing: ReturnType<IotRegistry['describeThing']> | undefined;
    try {
      existing = registry.describeThing(thing.thingName);
    } catch {
      existing = undefined;
    }
    if (!existing) {
      registry.createThing({ thingName: thing.thingName, attributes: thing.attributes });
      undo.push(() => registry.deleteThing(thing.thingName));
      return;
    }
    if (thing.override === 'FAIL') {
      throw rejection.conflict(
        `Thing ${thing.thingName} already exists and the template's OverrideSettings say FAIL`,
      );
    }
    if (thing.override === 'DO_NOTHING') return;
    const before = { ...existing.attributes };
    registry.updateThing({
      thingName: thing.thingName,
      attributes: thing.attributes,
      merge: thing.override === 'MERGE',
    });
    undo.push(() => registry.updateThing({ thingName: thing.thingName, attributes: before }));
  }

  async function registerThing(templateName: string, message: BrokerMessage): Promise<Reply> {
    const request = parse(message.payload);
    const token = request.certificateOwnershipToken;
    if (typeof token !== 'string' || token === '')
      throw rejection.badToken('Certificate ownership token cannot be empty.');
    const owned = store.tokens[token];
    if (!owned || owned.expiresAt <= deps.now()) {
      throw rejection.badToken(
        'The certificate ownership token is not valid or has expired; request a new certificate',
      );
    }
    const parameters: Record<string, string> = {};
    if (request.parameters !== undefined) {
      if (
        request.parameters === null ||
        typeof request.parameters !== 'object' ||
        Array.isArray(request.parameters)
      ) {
        throw rejection.parameters('parameters must be a map of names to string values');
      }
      for (const [k, v] of Object.entries(request.parameters as Record<string, unknown>)) {
        if (typeof v !== 'string') throw rejection.parameters(`parameter ${k} must be a string`);
        if (k.length > 2048 || v.length > 4096)
          throw rejection.parameters(`parameter ${k.slice(0, 40)} is too long`);
        parameters[k] = v;
      }
    }
    let template: ReturnType<ProvisioningTemplates['describe']>;
    try {
      template = deps.templates.describe(templateName);
    } catch {
      throw rejection.notFound(`The provisioning template ${templateName} does not exist`);
    }
    if (!template.enabled)
      throw rejection.accessDenied(`The provisioning template ${templateName} is disabled`);
    if (template.type !== 'FLEET_PROVISIONING')
      throw rejection.template(`${templateName} is not a fleet provisioning template`);
    const certificate = registry.certificateById(owned.certificateId);
    if (!certificate) throw rejection.badToken('The certificate of this ownership token no longer exists');
    if (certificate.status !== 'PENDING_ACTIVATION' && owned.registeredThing === undefined) {
      throw rejection.badToken(`The certificate of this ownership token is ${certificate.status}`);
    }

    let overrides: Record<string, string> = {};
    if (template.preProvisioningHook) {
      const event = {
        claimCertificateId: message.principal ?? '',
        certificateId: owned.certificateId,
        certificatePem: certificate.certificatePem,
        templateArn: template.templateArn,
        clientId: message.clientId ?? '',
        parameters,
      };
      const hook = await callHook(template.preProvisioningHook.targetArn, event);
      if (!hook.allowed) {
        log.warn(
          `RegisterThing through ${templateName} for client '${message.clientId}' denied: ${hook.why}`,
        );
        throw rejection.accessDenied('Provisioning was denied by the pre-provisioning hook');
      }
      overrides = hook.overrides;
    }
    let plan: ProvisioningPlan;
    try {
      plan = planProvisioning(
        checkTemplateBody(defaultBody(template)),
        { ...parameters, ...overrides },
        owned.certificateId,
      );
    } catch (error) {
      if (error instanceof TemplateError) {
        throw error.code === 'InvalidTemplate'
          ? rejection.template(error.message)
          : rejection.parameters(error.message);
      }
      throw error;
    }
    const thingName = plan.thing?.thingName;
    if (owned.registeredThing !== undefined) {
      if (owned.registeredThing !== (thingName ?? '')) {
        throw rejection.badToken(
          `This ownership token was already used to register ${owned.registeredThing || 'a certificate'}`,
        );
      }
      return { accepted: { deviceConfiguration: plan.deviceConfiguration, thingName } };
    }
    return withLock(thingName ?? owned.certificateId, async () => {
      const registered = apply(plan, owned.certificateId);
      store.update((s) => {
        const t = s.tokens[token];
        if (t) t.registeredThing = registered ?? '';
      });
      log.info(
        `registered ${registered ?? 'a certificate'} with certificate ${owned.certificateId.slice(0, 12)} through ${templateName}`,
      );
      return {
        accepted: {
          deviceConfiguration: plan.deviceConfiguration,
          ...(registered ? { thingName: registered } : {}),
        },
      };
    });
  }

  return async (message) => {
    if (!message.clientId) return;
    const parts = message.topic.split('/');
    let base: string;
    let run: () => Promise<Reply>;
    if (parts[1] === 'certificates' && parts.length === 4) {
      base = parts.slice(0, 4).join('/');
      run =
        parts[2] === 'create-from-csr'
          ? () => createFromCsr(message.payload)
          : () => createKeysAndCertificate();
    } else if (parts[1] === 'provisioning-templates' && parts.length === 5 && parts[3] === 'provision') {
      base = parts.join('/');
      const name = parts[2]!;
      run = () => registerThing(name, message);
    } else {
      return;
    }
    const format = parts[parts.length - 1];
    if (format === 'cbor') {
      await deps.bus.publishTo(message.clientId, {
        topic: `${base}/rejected`,
        payload: cborMap(rejection.format().toResponse()),
        qos: 0,
      });
      return;
    }
    if (format !== 'json') return;
    let reply: Reply;
    try {
      reply = await run();
    } catch (error) {
      if ((error as ProvisioningRejection).name === 'ProvisioningRejection') {
        reply = { rejected: error as ProvisioningRejection };
      } else {
        log.error(`${message.topic} from '${message.clientId}' failed: ${errorText(error)}`);
        reply = { rejected: rejection.internal() };
      }
    }
    if ('rejected' in reply) {
      log.warn(
        `rejected ${base} from '${message.clientId}': ${reply.rejected.errorCode} ${reply.rejected.message}`,
      );
    }
    const out =
      'accepted' in reply
        ? { topic: `${base}/accepted`, body: reply.accepted }
        : { topic: `${base}/rejected`, body: reply.rejected.toResponse() };
    const delivered = await deps.bus.publishTo(message.clientId, {
      topic: out.topic,
      payload: JSON.stringify(out.body),
      qos: 1,
    });
    if (!delivered)
      log.warn(`reply on ${out.topic} not delivered: '${message.clientId}' is gone or not subscribed to it`);
  };
}

/** Certificates whose ownership token expired while they were still unactivated and unattached: deleted. */
export function sweepExpired(
  store: ProvisioningStore,
  registry: IotRegistry,
  now: number,
  log: LocalLogger,
): number {
  let deleted = 0;
  const expired = Object.entries(store.tokens).filter(([, t]) => t.expiresAt <= now);
  for (const [, t] of expired) {
    const cert = registry.certificateById(t.certificateId);
    if (cert?.status !== 'PENDING_ACTIVATION') continue;
    try {
      registry.deleteCertificate(t.certificateId);
      deleted++;
    } catch (error) {
      log.warn(`unactivated certificate ${t.certificateId.slice(0, 12)} kept: ${errorText(error)}`);
    }
  }
  if (expired.length > 0) {
    store.update((s) => {
      for (const [token] of expired) delete s.tokens[token];
    });
  }
  return deleted;
}
