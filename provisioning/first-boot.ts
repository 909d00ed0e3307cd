/**
 * `zonectl device provision <thing> --claim <dir>`: a device provisions itself with a claim,
 * step by step, each step recorded in `<devices-dir>/<thing>/provisioning.json` before the next
 * starts, so a crash or a lost network between steps resumes where it stopped:
 *
 * 1. key: a key pair and CSR made here (the private key is written 0600 and never sent);
 * 2. certificate: CreateCertificateFromCsr over MQTT; the certificate and its ownership token
 *    (valid one hour) are recorded; a token about to expire is not reused, a new certificate is
 *    asked for instead (the old one is deleted by AWS IoT when its token expires unused);
 * 3. registration: RegisterThing through the building's template with ThingName (and Zone when
 *    given); a repeated request after a lost answer is allowed by the hook (same key);
 * 4. bundle: the same files `zonectl onboard --finish` writes (bundle.json 0600,
 *    certificate.pem, ca.pem, onboarding.json), from the device configuration RegisterThing
 *    returned; then the progress file goes.
 *
 * A device that already has its bundle is not provisioned again.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  BUNDLE_FILE,
  CA_FILE,
  CERTIFICATE_FILE,
  PRIVATE_KEY_FILE,
  parseDeviceConfiguration,
  TEMPLATE_PARAMETER,
} from '../contracts';
import { generateKeyAndCsr, type KeyKind } from '../contracts/pki';
import {
  type Claim,
  ClaimSession,
  type ClaimSessionOptions,
  ProvisioningRefusedError,
} from '../device/provision';
import { provisionedBundle } from './device-bundle';
import { deviceDir, writeAtomic, writeRecord, writeSecret } from './device-files';
import { OnboardError } from './errors';

export const PROGRESS_FILE = 'provisioning.json';
/** A token younger than this is reused on resume; AWS lets it live one hour. */
const TOKEN_REUSE_MS = 50 * 60_000;

interface Progress {
  thing: string;
  csrPem?: string;
  certificateId?: string;
  certificatePem?: string;
  ownershipToken?: string;
  tokenIssuedAt?: number;
  thingName?: string;
  deviceConfiguration?: Record<string, string>;
}

export interface FirstBootOptions {
  readonly thing: string;
  /** The zone the installer put the device in; the hook checks it against the inventory. */
  readonly zone?: string;
  readonly claim: Claim;
  readonly devicesDir: string;
  readonly session?: ClaimSessionOptions;
  /** For tests of weak keys; default P-256. */
  readonly keyKind?: KeyKind;
  readonly now?: () => number;
  readonly log?: (line: string) => void;
  /** Stops after a step, as a crash would (tests of resume). */
  readonly stopAfter?: 'key' | 'certificate' | 'registration';
}

export interface FirstBootResult {
  readonly bundlePath: string;
  readonly certificateId: string;
  readonly zone: string;
  /** Steps done by earlier runs that this run took up. */
  readonly resumed: readonly string[];
  readonly alreadyProvisioned: boolean;
}

export async function provisionFirstBoot(o: FirstBootOptions): Promise<FirstBootResult> {
  const now = o.now ?? Date.now;
  const log = o.log ?? (() => undefined);
  const dir = deviceDir(o.devicesDir, o.thing);
  const bundlePath = join(dir, BUNDLE_FILE);
  const progressPath = join(dir, PROGRESS_FILE);
  const keyPath = join(dir, PRIVATE_KEY_FILE);
  if (existsSync(bundlePath) && !existsSync(progressPath)) {
    const bundle = JSON.parse(readFileSync(bundlePath, 'utf8')) as { certificateId: string; zone: string };
    return {
      bundlePath,
      certificateId: bundle.certificateId,
      zone: bundle.zone,
      resumed: [],
      alreadyProvisioned: true,
    };
  }
  const progress: Progress = existsSync(progressPath)
    ? (JSON.parse(readFileSync(progressPath, 'utf8')) as Progress)
    : { thing: o.thing };
  const resumed: string[] = [];
  const save = () => writeAtomic(progressPath, `${JSON.stringify(progress, null, 2)}\n`, 0o600);

  // 1. key and CSR, made here
  if (!existsSync(keyPath) || !progress.csrPem) {
    // a key without its CSR was never used: the run that made it stopped before recording it
    rmSync(keyPath, { force: true });
    const material = await generateKeyAndCsr(o.thing, o.keyKind);
    writeSecret(keyPath, material.privateKeyPem);
    progress.csrPem = material.csrPem;
    save();
    log('made a key pair and CSR on this device');
  } else {
    resumed.push('key');
  }
  if (o.stopAfter === 'key') throw new OnboardError('stopped after the key (test)');
  const privateKeyPem = readFileSync(keyPath, 'utf8');

  let session: ClaimSession | undefined;
  const open = async () => {
    session ??= await ClaimSession.open(o.claim, o.session).catch((err) => {
      throw new OnboardError((err as Error).message);
    });
    return session;
  };
  try {
    for (let attempt = 0; ; attempt++) {
      // 2. certificate from the CSR
      const fresh = progress.tokenIssuedAt !== undefined && now() - progress.tokenIssuedAt < TOKEN_REUSE_MS;
      if (!progress.deviceConfiguration && (!progress.ownershipToken || !fresh)) {
        const created = await (await open()).createCertificateFromCsr(progress.csrPem!).catch((err) => {
          throw explain(err, o.thing);
        });
        Object.assign(progress, {
          certificateId: created.certificateId,
          certificatePem: created.certificatePem,
          ownershipToken: created.ownershipToken,
          tokenIssuedAt: now(),
        });
        save();
        log(`got certificate ${created.certificateId.slice(0, 12)} for the CSR`);
      } else if (attempt === 0) {
        resumed.push('certificate');
      }
      if (o.stopAfter === 'certificate') throw new OnboardError('stopped after the certificate (test)');

      // 3. registration through the building's template
      if (!progress.deviceConfiguration) {
        const parameters: Record<string, string> = { [TEMPLATE_PARAMETER.thingName]: o.thing };
        if (o.zone) parameters[TEMPLATE_PARAMETER.zone] = o.zone;
        try {
          const registered = await (await open()).registerThing(progress.ownershipToken!, parameters);
          progress.thingName = registered.thingName;
          progress.deviceConfiguration = registered.deviceConfiguration;
          save();
          log(`registered as ${registered.thingName}`);
        } catch (err) {
          // A token the cloud no longer takes (expired while we were away): ask for a new certificate once.
          if (
            attempt === 0 &&
            err instanceof ProvisioningRefusedError &&
            err.errorCode === 'InvalidCertificateOwnershipToken'
          ) {
            progress.ownershipToken = undefined;
            progress.tokenIssuedAt = undefined;
            save();
            continue;
          }
          throw explain(err, o.thing);
        }
      } else {
        resumed.push('registration');
      }
      break;
    }
  } finally {
    await session?.close();
  }
  if (o.stopAfter === 'registration') throw new OnboardError('stopped after the registration (test)');

  // 4. the bundle, as onboard --finish writes it
  let device: ReturnType<typeof parseDeviceConfiguration>;
  try {
    device = parseDeviceConfiguration(progress.deviceConfiguration!);
  } catch (err) {
    throw new OnboardError(
      `The cloud registered ${o.thing} but its device configuration is not usable: ${(err as Error).message}`,
    );
  }
  const bundle = provisionedBundle({
    thing: progress.thingName || o.thing,
    device,
    claim: o.claim,
    certificateId: progress.certificateId!,
    certificatePem: progress.certificatePem!,
    privateKeyPem,
    createdAt: new Date(now()).toISOString(),
  });
  writeAtomic(join(dir, CERTIFICATE_FILE), progress.certificatePem!);
  writeAtomic(join(dir, CA_FILE), o.claim.caPem);
  writeSecret(bundlePath, `${JSON.stringify(bundle, null, 2)}\n`, true);
  writeRecord(dir, { thing: o.thing, certificateId: progress.certificateId!, target: o.claim.target });
  rmSync(progressPath, { force: true });
  return {
    bundlePath,
    certificateId: progress.certificateId!,
    zone: device.zone,
    resumed,
    alreadyProvisioned: false,
  };
}

function explain(err: unknown, thing: string): Error {
  if (err instanceof OnboardError) return err;
  if (err instanceof ProvisioningRefusedError) {
    const hint =
      err.step === 'CreateCertificateFromCsr'
        ? 'the cloud refused the CSR'
        : err.reason
          ? `the building refused ${thing}`
          : `the building refused ${thing} without a reason in time (the pre-provisioning hook's log says why)`;
    return new OnboardError(`${hint}: ${err.message}`);
  }
  return err instanceof Error ? new OnboardError(err.message) : new OnboardError(String(err));
}
