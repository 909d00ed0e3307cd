/**
 * Claims for installers, behind `zonectl claim create` and `zonectl claim revoke`: a claim
 * certificate for one fleet-provisioned building, whose key is made on this machine (only the
 * CSR goes to AWS IoT, CreateCertificateFromCsr), attached to the building's claim policy,
 * written with the broker, its CA and the template name to `<claim-dir>/claim.json` (mode 0600).
 * A claim may only connect as a claim client and ask for certificates and registration through
 * the building's template (contracts `claimPolicyDocument`); `claim revoke` ends it
 * (UpdateCertificate REVOKED: the broker disconnects and refuses it).
 *
 * Not AWS's trusted-user flow (CreateProvisioningClaim): that returns a temporary claim whose
 * key AWS makes, valid for 5 minutes and absent from the certificate list; a claim here is a
 * certificate of the account, valid until revoked, with a key that never left this machine.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  AttachPolicyCommand,
  CreateCertificateFromCsrCommand,
  DeleteCertificateCommand,
  DescribeEndpointCommand,
  GetPolicyCommand,
  UpdateCertificateCommand,
} from '@aws-sdk/client-iot';
import { claimPolicyName, provisioningTemplateName } from '../contracts';
import { generateKeyAndCsr } from '../contracts/pki';
import { CLAIM_FILE, type Claim, ClaimSchema, loadClaim } from '../device/provision';
import { AMAZON_ROOT_CA_1_PEM } from './amazon-root-ca';
import { writeSecret } from './device-files';
import { OnboardError } from './errors';
import { AWS_MQTT_PORT, call, loadBuildingConfig, revokeCertificate, type Target } from './onboard';

/** Where `zonectl claim create` writes a building's claim unless told otherwise. */
export const defaultClaimDir = (buildingId: string): string => join('.zonectl', 'claims', buildingId);

/** The broker a device connects to and the CA it trusts, for this target. */
export async function brokerOf(
  target: Target,
): Promise<{ endpoint: { host: string; port: number }; caPem: string }> {
  if (target.endpoints) {
    try {
      return {
        endpoint: { host: target.endpoints.mqttHost, port: target.endpoints.mqttPort },
        caPem: readFileSync(target.endpoints.caFile, 'utf8'),
      };
    } catch {
      throw new OnboardError(
        `Cannot read the local CA ${target.endpoints.caFile}: restart the local cloud with \`zonectl local up\`.`,
      );
    }
  }
  const out = await call(target, 'looking up the IoT data endpoint', () =>
    target.iot.send(new DescribeEndpointCommand({ endpointType: 'iot:Data-ATS' })),
  );
  if (!out.endpointAddress) throw new OnboardError('DescribeEndpoint returned no address: check the region.');
  return { endpoint: { host: out.endpointAddress, port: AWS_MQTT_PORT }, caPem: AMAZON_ROOT_CA_1_PEM };
}

export interface CreateClaimOptions {
  readonly configPath: string;
  readonly claimDir?: string;
  readonly target: Target;
}

export async function createClaim(o: CreateClaimOptions): Promise<{ path: string; claim: Claim }> {
  const config = loadBuildingConfig(o.configPath);
  if (config.provisioning !== 'fleet') {
    throw new OnboardError(
      `Building '${config.buildingId}' is provisioned by the stack ("provisioning": "${config.provisioning}" in ${o.configPath}); claims are for fleet provisioning. Set "provisioning": "fleet", deploy, then create the claim.`,
    );
  }
  const dir = o.claimDir ?? defaultClaimDir(config.buildingId);
  const path = join(dir, CLAIM_FILE);
  if (existsSync(path)) {
    throw new OnboardError(
      `A claim already exists at ${path}; it is never overwritten. Revoke it (zonectl claim revoke --claim-dir ${dir}) and remove it, or pass another --claim-dir.`,
    );
  }
  const { target } = o;
  const policyName = claimPolicyName(config.buildingId);
  await call(target, `reading the claim policy ${policyName}`, () =>
    target.iot.send(new GetPolicyCommand({ policyName })),
  ).catch((err) => {
    if ((err as Error).name === 'ResourceNotFoundException') {
      throw new OnboardError(
        `The claim policy ${policyName} does not exist${target.local ? ' in the local cloud' : ''}: deploy the building's stack first (${target.local ? 'zonectl local deploy' : 'npx cdk deploy'}).`,
      );
    }
    throw err;
  });
  const broker = await brokerOf(target);
  const material = await generateKeyAndCsr(`${config.buildingId}-claim`);
  const created = await call(target, 'creating the claim certificate', () =>
    target.iot.send(
      new CreateCertificateFromCsrCommand({ certificateSigningRequest: material.csrPem, setAsActive: true }),
    ),
  );
  const certificateId = created.certificateId!;
  try {
    await call(target, `attaching ${policyName} to the claim certificate`, () =>
      target.iot.send(new AttachPolicyCommand({ policyName, target: created.certificateArn! })),
    );
  } catch (err) {
    // No orphan: the unattached certificate is deactivated and deleted again.
    await target.iot
      .send(new UpdateCertificateCommand({ certificateId, newStatus: 'INACTIVE' }))
      .catch(() => undefined);
    await target.iot.send(new DeleteCertificateCommand({ certificateId })).catch(() => undefined);
    throw err;
  }
  const claim = ClaimSchema.parse({
    v: 1,
    target: target.local ? 'local' : 'aws',
    building: config.buildingId,
    templateName: provisioningTemplateName(config.buildingId),
    endpoint: broker.endpoint,
    certificateId,
    certificatePem: created.certificatePem!,
    privateKeyPem: material.privateKeyPem,
    caPem: broker.caPem,
    region: target.endpoints?.region ?? (await target.iot.config.region().catch(() => undefined)),
    createdAt: new Date().toISOString(),
  });
  writeSecret(path, `${JSON.stringify(claim, null, 2)}\n`);
  return { path, claim };
}

export async function revokeClaim(o: {
  claimDir: string;
  target: Target;
  certificateId?: string;
}): Promise<{ certificateId: string }> {
  const certificateId = o.certificateId ?? loadClaimOrExplain(o.claimDir).certificateId;
  await revokeCertificate(o.target, certificateId, `revoking the claim certificate ${certificateId}`);
  return { certificateId };
}

function loadClaimOrExplain(dir: string): Claim {
  try {
    return loadClaim(dir);
  } catch (err) {
    throw new OnboardError((err as Error).message);
  }
}
