/**
 * An in-memory PrincipalDirectory for tests: things, certificates, policies and attachments,
 * with the registry events the broker listens to. It stands in for local/iot's registry.
 */
import { type CloudIdentity, DEFAULT_IDENTITY, iotArn } from '../../local/common/account';
import type {
  CertificateRecord,
  CertificateStatus,
  PolicyDocument,
  PrincipalDirectory,
  RegistryEvent,
  ThingAttachment,
  ThingRecord,
} from '../../local/iot/types';

export interface TestDirectory extends PrincipalDirectory {
  addThing(thingName: string, attributes?: Record<string, string>): ThingRecord;
  addCertificate(
    certificateId: string,
    certificatePem: string,
    status?: CertificateStatus,
  ): CertificateRecord;
  setCertificateStatus(certificateId: string, status: CertificateStatus): void;
  attachThing(certificateId: string, thingName: string, exclusive?: boolean): void;
  putPolicy(policyName: string, document: PolicyDocument): void;
  attachPolicy(certificateId: string, policyName: string): void;
}

export function createTestDirectory(identity: CloudIdentity = DEFAULT_IDENTITY): TestDirectory {
  const things = new Map<string, ThingRecord>();
  const certificates = new Map<string, CertificateRecord>();
  const thingAttachments = new Map<string, Array<{ thingName: string; exclusive: boolean }>>();
  const policies = new Map<string, PolicyDocument>();
  const policyAttachments = new Map<string, string[]>();
  const listeners = new Set<(event: RegistryEvent) => void>();
  const emit = (event: RegistryEvent) => {
    for (const l of listeners) l(event);
  };
  const certArn = (id: string) => iotArn(identity, 'cert', id);

  return {
    thingByName: (name) => things.get(name),
    certificateById: (id) => certificates.get(id),
    thingsOfPrincipal(principalArn): ThingAttachment[] {
      return (thingAttachments.get(principalArn) ?? []).flatMap((a) => {
        const thing = things.get(a.thingName);
        return thing ? [{ thing, exclusive: a.exclusive }] : [];
      });
    },
    policiesOfPrincipal(principalArn) {
      return (policyAttachments.get(principalArn) ?? []).flatMap((policyName) => {
        const document = policies.get(policyName);
        return document ? [{ policyName, document }] : [];
      });
    },
    on(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    addThing(thingName, attributes = {}) {
      const thing: ThingRecord = {
        thingName,
        thingArn: iotArn(identity, 'thing', thingName),
        thingId: `${thingName}-id`,
        attributes,
        version: 1,
      };
      things.set(thingName, thing);
      emit({ type: 'thing-changed', thingName });
      return thing;
    },
    addCertificate(certificateId, certificatePem, status = 'ACTIVE') {
      const now = Date.now();
      const record: CertificateRecord = {
        certificateId,
        certificateArn: certArn(certificateId),
        certificatePem,
        status,
        creationDate: now,
        lastModifiedDate: now,
      };
      certificates.set(certificateId, record);
      return record;
    },
    setCertificateStatus(certificateId, status) {
      const record = certificates.get(certificateId);
      if (!record) throw new Error(`no certificate ${certificateId}`);
      record.status = status;
      record.lastModifiedDate = Date.now();
      emit({ type: 'certificate-status', certificateId, status });
    },
    attachThing(certificateId, thingName, exclusive = false) {
      const list = thingAttachments.get(certArn(certificateId)) ?? [];
      list.push({ thingName, exclusive });
      thingAttachments.set(certArn(certificateId), list);
      emit({ type: 'thing-changed', thingName });
    },
    putPolicy(policyName, document) {
      policies.set(policyName, document);
      emit({ type: 'policy-changed', policyName });
    },
    attachPolicy(certificateId, policyName) {
      const list = policyAttachments.get(certArn(certificateId)) ?? [];
      list.push(policyName);
      policyAttachments.set(certArn(certificateId), list);
      emit({ type: 'policy-changed', policyName });
    },
  };
}
