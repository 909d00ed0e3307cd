/**
 * IoT policies (AWS IoT API Reference, "CreatePolicy", "GetPolicy", "ListPolicies",
 * "DeletePolicy"): a policy name of 1-128 characters of `[\w+=,.@-]`, a document checked as
 * CreatePolicy checks it, one version per policy; a policy attached to a principal cannot be
 * deleted (DeleteConflictException). Parsed documents are cached for the broker's checks.
 */
import { randomUUID } from 'node:crypto';
import { deleteConflict, invalidRequest, resourceAlreadyExists, resourceNotFound } from '../errors';
import { type Page, paginate } from '../pagination';
import { parsePolicyDocument } from '../policy';
import { type RegistryStore, sortBy } from '../store';
import type { PolicyDocument, StoredPolicy } from '../types';

const POLICY_NAME = /^[\w+=,.@-]{1,128}$/;

export class Policies {
  private readonly parsed = new Map<string, PolicyDocument>();

  constructor(private readonly store: RegistryStore) {}

  /** The policy's parsed document, parsed once. */
  document(policy: StoredPolicy): PolicyDocument {
    let document = this.parsed.get(policy.policyName);
    if (!document) {
      document = JSON.parse(policy.policyDocument) as PolicyDocument;
      this.parsed.set(policy.policyName, document);
    }
    return document;
  }

  create(
    policyName: string,
    policyDocument: string,
  ): { policyName: string; policyArn: string; policyDocument: string; policyVersionId: string } {
    if (!POLICY_NAME.test(policyName ?? '')) throw invalidRequest(`Invalid policy name: ${policyName}`);
    const document = parsePolicyDocument(policyDocument);
    const existing = this.store.policies.get(policyName);
    if (existing) {
      throw resourceAlreadyExists(
        `Policy cannot be created - name already exists (name=${policyName})`,
        policyName,
        existing.policyArn,
      );
    }
    const now = Date.now();
    const policy: StoredPolicy = {
      policyName,
      policyArn: this.store.arn('policy', policyName),
      policyDocument,
      defaultVersionId: '1',
      creationDate: now,
      lastModifiedDate: now,
      generationId: randomUUID(),
    };
    this.store.policies.put(policyName, policy);
    this.parsed.set(policyName, document);
    this.store.emit({ type: 'policy-changed', policyName });
    return { policyName, policyArn: policy.policyArn, policyDocument, policyVersionId: '1' };
  }

  get(policyName: string): StoredPolicy {
    const policy = this.store.policies.get(policyName);
    if (!policy) throw resourceNotFound(`Policy not found (name=${policyName})`);
    return policy;
  }

  list(marker?: string, pageSize?: number, ascending = true): Page<StoredPolicy> {
    const all = sortBy(this.store.policies.values(), (p) => p.policyName);
    if (!ascending) all.reverse();
    return paginate(all, marker, pageSize, 250);
  }

  delete(policyName: string): void {
    this.get(policyName);
    const targets = this.store.policyTargets.ofLeft(policyName);
    if (targets.length > 0) {
      throw deleteConflict(
        `The policy cannot be deleted as the policy is attached to one or more principals (name=${policyName})`,
      );
    }
    this.store.policies.delete(policyName);
    this.parsed.delete(policyName);
    this.store.emit({ type: 'policy-changed', policyName });
  }
}
