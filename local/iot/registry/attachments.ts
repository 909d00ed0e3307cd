/**
 * What is attached to a certificate: policies (AWS IoT API Reference, "AttachPolicy",
 * "DetachPolicy", "ListAttachedPolicies", "ListTargetsForPolicy"; at most 10 policies a
 * principal) and things ("AttachThingPrincipal", "DetachThingPrincipal", "ListThingPrincipals",
 * "ListPrincipalThings"; an EXCLUSIVE_THING attachment allows one thing only). Principals are
 * certificate ARNs; changes are announced so the broker's next check sees them.
 */
import { invalidRequest, limitExceeded, resourceNotFound } from '../errors';
import { type Page, paginate } from '../pagination';
import { type RegistryStore, sortBy } from '../store';
import type { StoredCertificate, StoredPolicy, ThingAttachment, ThingPrincipalType } from '../types';
import type { Policies } from './policies';
import type { Things } from './things';

const MAX_POLICIES_PER_PRINCIPAL = 10;
const CERTIFICATE_ARN = /^arn:aws[\w-]*:iot:[^:]*:[^:]*:cert\/([0-9a-fA-F]{64})$/;

export class Attachments {
  constructor(
    private readonly store: RegistryStore,
    private readonly things: Things,
    private readonly policies: Policies,
  ) {}

  // ---- Policies on certificates ---------------------------------------------------------

  policiesOf(principalArn: string): StoredPolicy[] {
    return this.store.policyTargets.ofRight(principalArn).flatMap((l) => {
      const policy = this.store.policies.get(l.policyName);
      return policy ? [policy] : [];
    });
  }

  attachPolicy(policyName: string, target: string): void {
    this.policies.get(policyName);
    this.certificateOfTarget(target);
    if (this.store.policyTargets.get(policyName, target)) return;
    if (this.store.policyTargets.ofRight(target).length >= MAX_POLICIES_PER_PRINCIPAL) {
      throw limitExceeded(`A principal can have at most ${MAX_POLICIES_PER_PRINCIPAL} policies attached`);
    }
    this.store.policyTargets.put({ policyName, target });
    this.store.emit({ type: 'policy-changed', policyName });
  }

  detachPolicy(policyName: string, target: string): void {
    this.policies.get(policyName);
    this.store.policyTargets.delete(policyName, target);
    this.store.emit({ type: 'policy-changed', policyName });
  }

  listAttachedPolicies(target: string, marker?: string, pageSize?: number): Page<StoredPolicy> {
    this.certificateOfTarget(target);
    return paginate(
      sortBy(this.policiesOf(target), (p) => p.policyName),
      marker,
      pageSize,
      250,
    );
  }

  listTargetsForPolicy(policyName: string, marker?: string, pageSize?: number): Page<string> {
    this.policies.get(policyName);
    const all = this.store.policyTargets.ofLeft(policyName).map((l) => l.target);
    return paginate(all.sort(), marker, pageSize, 250);
  }

  // ---- Things on certificates -----------------------------------------------------------

  thingsOf(principalArn: string): ThingAttachment[] {
    return this.store.thingPrincipals.ofRight(principalArn).flatMap((l) => {
      const thing = this.store.things.get(l.thingName);
      return thing ? [{ thing, exclusive: l.exclusive }] : [];
    });
  }

  attachThingPrincipal(
    thingName: string,
    principal: string,
    type: ThingPrincipalType = 'NON_EXCLUSIVE_THING',
  ): void {
    this.things.describe(thingName);
    if (!principal) throw invalidRequest('The principal (header x-amzn-principal) is required');
    if (type !== 'EXCLUSIVE_THING' && type !== 'NON_EXCLUSIVE_THING') {
      throw invalidRequest(`Invalid thingPrincipalType ${String(type)}`);
    }
    this.certificateOfTarget(principal);
    const links = this.store.thingPrincipals.ofRight(principal);
    const others = links.filter((l) => l.thingName !== thingName);
    if (others.some((l) => l.exclusive) || (type === 'EXCLUSIVE_THING' && others.length > 0)) {
      throw invalidRequest(
        `Principal ${principal} is already attached to thing ${others[0]?.thingName}; an exclusive attachment allows one thing only`,
      );
    }
    this.store.thingPrincipals.put({ thingName, principal, exclusive: type === 'EXCLUSIVE_THING' });
    this.store.emit({ type: 'thing-changed', thingName });
  }

  detachThingPrincipal(thingName: string, principal: string): void {
    this.things.describe(thingName);
    if (!principal) throw invalidRequest('The principal (header x-amzn-principal) is required');
    this.store.thingPrincipals.delete(thingName, principal);
    this.store.emit({ type: 'thing-changed', thingName });
  }

  listThingPrincipals(thingName: string, nextToken?: string, maxResults?: number): Page<string> {
    this.things.describe(thingName);
    const all = this.store.thingPrincipals.ofLeft(thingName).map((l) => l.principal);
    return paginate(all.sort(), nextToken, maxResults, 250);
  }

  listPrincipalThings(principal: string, nextToken?: string, maxResults?: number): Page<string> {
    if (!principal) throw invalidRequest('The principal (header x-amzn-principal) is required');
    this.certificateOfTarget(principal);
    const all = this.store.thingPrincipals.ofRight(principal).map((l) => l.thingName);
    return paginate(all.sort(), nextToken, maxResults, 250);
  }

  /** The certificate a principal ARN names; only certificate principals are supported. */
  private certificateOfTarget(target: string): StoredCertificate {
    const match = CERTIFICATE_ARN.exec(target ?? '');
    if (!match?.[1]) {
      throw invalidRequest(
        `Unsupported principal ${target}: the local registry supports certificate ARNs only`,
      );
    }
    const cert = this.store.certificates.get(match[1].toLowerCase());
    if (!cert) throw resourceNotFound(`The certificate given in the principal does not exist: ${target}`);
    return cert;
  }
}
