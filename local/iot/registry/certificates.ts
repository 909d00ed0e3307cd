/**
 * Device certificates (AWS IoT API Reference, "CreateCertificateFromCsr",
 * "CreateKeysAndCertificate", "DescribeCertificate", "ListCertificates", "UpdateCertificate",
 * "DeleteCertificate"): signed by the local CA, ids are the SHA-256 of the DER, INACTIVE unless
 * set active; a REVOKED certificate stays revoked; an ACTIVE or attached certificate cannot be
 * deleted. A status change is announced so the broker can close live sessions.
 */
import { randomUUID } from 'node:crypto';
import type { CaService, IssuedCertificate } from '../../ca';
import { certificateState, deleteConflict, invalidRequest, resourceNotFound } from '../errors';
import { type Page, paginate } from '../pagination';
import { type RegistryStore, sortBy } from '../store';
import type { CertificateCreated, CertificateStatus, StoredCertificate } from '../types';

const CERTIFICATE_ID = /^[0-9a-fA-F]{64}$/;

export class Certificates {
  constructor(
    private readonly store: RegistryStore,
    private readonly ca: CaService,
  ) {}

  arnOf(certificateId: string): string {
    return this.store.arn('cert', certificateId);
  }

  byId(certificateId: string): StoredCertificate | undefined {
    return this.store.certificates.get(certificateId.toLowerCase());
  }

  async createFromCsr(
    csrPem: string,
    setAsActive: boolean | 'PENDING_ACTIVATION' = false,
  ): Promise<CertificateCreated> {
    const issued = await this.ca.signCsr(csrPem);
    return this.save(issued, setAsActive);
  }

  async createKeysAndCertificate(
    setAsActive: boolean | 'PENDING_ACTIVATION' = false,
  ): Promise<CertificateCreated & { keyPair: { PublicKey: string; PrivateKey: string } }> {
    const issued = await this.ca.createKeysAndCertificate();
    return { ...this.save(issued, setAsActive), keyPair: { ...issued.keyPair } };
  }

  /**
   * Stores an issued certificate: ACTIVE or INACTIVE as the control-plane API sets it, or
   * PENDING_ACTIVATION for the provisioning MQTT API, whose certificates RegisterThing
   * activates (AWS IoT Developer Guide, "Device provisioning MQTT API").
   */
  private save(issued: IssuedCertificate, setAsActive: boolean | 'PENDING_ACTIVATION'): CertificateCreated {
    const now = Date.now();
    const cert: StoredCertificate = {
      certificateId: issued.certificateId,
      certificateArn: this.arnOf(issued.certificateId),
      certificatePem: issued.certificatePem,
      status: setAsActive === 'PENDING_ACTIVATION' ? setAsActive : setAsActive ? 'ACTIVE' : 'INACTIVE',
      creationDate: now,
      lastModifiedDate: now,
      notBefore: issued.notBefore.getTime(),
      notAfter: issued.notAfter.getTime(),
      generationId: randomUUID(),
    };
    this.store.certificates.put(cert.certificateId, cert);
    this.store.logger.info(`registered certificate ${cert.certificateId} (${cert.status})`);
    return {
      certificateArn: cert.certificateArn,
      certificateId: cert.certificateId,
      certificatePem: cert.certificatePem,
    };
  }

  describe(certificateId: string): StoredCertificate {
    if (!CERTIFICATE_ID.test(certificateId ?? ''))
      throw invalidRequest(`Invalid certificate id: ${certificateId}`);
    const cert = this.byId(certificateId);
    if (!cert)
      throw resourceNotFound(`The certificate given in the principal does not exist: ${certificateId}`);
    return cert;
  }

  list(marker?: string, pageSize?: number, ascending = false): Page<StoredCertificate> {
    const all = sortBy(this.store.certificates.values(), (c) => c.creationDate);
    if (!ascending) all.reverse();
    return paginate(all, marker, pageSize, 250);
  }

  update(certificateId: string, newStatus: string): void {
    const cert = this.describe(certificateId);
    if (newStatus !== 'ACTIVE' && newStatus !== 'INACTIVE' && newStatus !== 'REVOKED') {
      throw invalidRequest(`Invalid newStatus ${newStatus}: use ACTIVE, INACTIVE or REVOKED`);
    }
    if (cert.status === 'REVOKED' && newStatus !== 'REVOKED') {
      throw certificateState(
        `Certificate ${cert.certificateId} is revoked and cannot be set to ${newStatus}`,
      );
    }
    if (cert.status === newStatus) return;
    const status = newStatus as CertificateStatus;
    this.store.certificates.put(cert.certificateId, {
      ...cert,
      status,
      lastModifiedDate: Date.now(),
      generationId: randomUUID(),
    });
    this.store.logger.info(`certificate ${cert.certificateId} is now ${status}`);
    this.store.emit({ type: 'certificate-status', certificateId: cert.certificateId, status });
  }

  delete(certificateId: string, forceDelete = false): void {
    const cert = this.describe(certificateId);
    if (cert.status === 'ACTIVE') {
      throw certificateState(
        `Certificate ${cert.certificateId} is ACTIVE: deactivate or revoke it before deleting it`,
      );
    }
    if (this.store.thingPrincipals.ofRight(cert.certificateArn).length > 0) {
      throw deleteConflict(`Certificate ${cert.certificateId} is attached to one or more things`);
    }
    const policies = this.store.policyTargets.ofRight(cert.certificateArn);
    if (!forceDelete && policies.length > 0) {
      throw deleteConflict(
        `Certificate ${cert.certificateId} has policies attached: detach them or use forceDelete`,
      );
    }
    this.store.certificates.delete(cert.certificateId);
    for (const l of policies) this.store.policyTargets.delete(l.policyName, l.target);
  }
}
