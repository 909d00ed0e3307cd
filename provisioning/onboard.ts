/**
 * Onboarding steps behind `zonectl onboard` and `zonectl revoke`:
 *
 * - start: key pair + CSR on this machine; the CSR goes where the CDK app reads it.
 * - finish: certificate id from the deployed stack, certificate and endpoint from the IoT
 *   control plane, one device bundle; after a rotation, the old certificate is deactivated.
 * - revoke: UpdateCertificate REVOKED.
 *
 * The same code serves AWS and the local cloud; only the client endpoint and CA differ.
 */

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CloudFormationClient,
  DescribeStacksCommand,
  type DescribeStacksCommandOutput,
} from '@aws-sdk/client-cloudformation';
import {
  DescribeCertificateCommand,
  DescribeEndpointCommand,
  IoTClient,
  UpdateCertificateCommand,
} from '@aws-sdk/client-iot';
import {
  BUNDLE_FILE,
  type BuildingConfig,
  BuildingConfigError,
  buildingStackName,
  CA_FILE,
  CERTIFICATE_FILE,
  certificateOutputKey,
  csrFileName,
  type DevicePlacement,
  devicesOf,
  findDevice,
  type LocalEndpoints,
  LocalEndpointsError,
  localClientConfig,
  PRIVATE_KEY_FILE,
  parseBuildingConfigText,
  readLocalEndpoints,
  STACK_OUTPUTS_FILE,
} from '../contracts';
import { certificateMatchesKey, generateKeyAndCsr } from '../contracts/pki';
import { AMAZON_ROOT_CA_1_PEM } from './amazon-root-ca';
import { deviceBundle } from './device-bundle';
import {
  deviceDir,
  dropPrevious,
  moveToPrevious,
  readPrivateKey,
  readRecord,
  writeAtomic,
  writeRecord,
  writeSecret,
} from './device-files';
import { closeMatches, explainAwsError, OnboardError } from './errors';
import { awsDeployStep, finishStep, localDeployStep, localUpStep } from './next-steps';

/** Port of AWS IoT Core's MQTT over mutual TLS. */
export const AWS_MQTT_PORT = 8883;

export function loadBuildingConfig(path: string): BuildingConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new OnboardError(
      `Cannot read the building config ${path} (${(err as NodeJS.ErrnoException).code}): pass --config <file>.`,
    );
  }
  try {
    return parseBuildingConfigText(text, path);
  } catch (err) {
    if (err instanceof BuildingConfigError) throw new OnboardError(err.message);
    throw err;
  }
}

/** The thing's placement, or an error listing close matches. */
export function requireDevice(config: BuildingConfig, thing: string, source: string): DevicePlacement {
  const device = findDevice(config, thing);
  if (device) return device;
  const names = devicesOf(config).map((d) => d.thing);
  const close = closeMatches(thing, names);
  throw new OnboardError(
    `No thing named "${thing}" in ${source}. ${close.length > 0 ? `Did you mean ${close.map((c) => `"${c}"`).join(', ')}? ` : ''}` +
      `Known things: ${names.join(', ')}. Add the device to a zone in ${source} first if it is new.`,
  );
}

// ---- start ---------------------------------------------------------------------------------

export interface StartOptions {
  readonly thing: string;
  readonly configPath: string;
  readonly csrDir: string;
  readonly devicesDir: string;
  readonly rotate?: boolean;
}

export interface StartResult {
  readonly keyPath: string;
  readonly csrPath: string;
  readonly rotated: boolean;
  readonly nextSteps: readonly string[];
}

export async function startOnboarding(o: StartOptions): Promise<StartResult> {
  const config = loadBuildingConfig(o.configPath);
  requireDevice(config, o.thing, o.configPath);
  const dir = deviceDir(o.devicesDir, o.thing);
  const keyPath = join(dir, PRIVATE_KEY_FILE);
  const exists = existsSync(keyPath);
  if (exists && !o.rotate) {
    throw new OnboardError(
      `${o.thing} already has a private key (${keyPath}); it is never overwritten. To replace it, run \`npx zonectl onboard ${o.thing} --rotate\`; to finish onboarding after a deploy, run \`${finishStep(o.thing, o)}\` (add --local for the local cloud).`,
    );
  }
  const record = readRecord(dir, o.thing);
  if (exists) {
    moveToPrevious(dir, o.thing);
    if (record.certificateId) record.previousCertificateId = record.certificateId;
    record.certificateId = undefined;
  }
  const material = await generateKeyAndCsr(o.thing);
  writeSecret(keyPath, material.privateKeyPem);
  mkdirSync(o.csrDir, { recursive: true });
  const csrPath = join(o.csrDir, csrFileName(o.thing));
  writeFileSync(csrPath, material.csrPem);
  writeRecord(dir, record);
  return {
    keyPath,
    csrPath,
    rotated: exists,
    nextSteps: [
      `Deploy so the stack issues a certificate from the CSR. AWS: \`${awsDeployStep(o)}\`. Local cloud: with \`${localUpStep()}\` running in another terminal, \`${localDeployStep(o)}\`.`,
      `Then write the device bundle: \`${finishStep(o.thing, o)}\` (AWS) or \`${finishStep(o.thing, { ...o, local: true })}\` (local cloud).`,
    ],
  };
}

// ---- clients -------------------------------------------------------------------------------

export interface Target {
  readonly local: boolean;
  readonly iot: IoTClient;
  readonly cloudFormation?: CloudFormationClient;
  /** Endpoint of the control plane, for messages. */
  readonly endpoint?: string;
  readonly endpoints?: LocalEndpoints;
  readonly stateDir?: string;
}

/** Clients for the local cloud (endpoints.json, throwaway credentials) or for AWS (default chain). */
export function targetFor(o: { local?: boolean; stateDir: string }): Target {
  if (o.local) {
    let endpoints: LocalEndpoints;
    try {
      endpoints = readLocalEndpoints(o.stateDir);
    } catch (err) {
      if (err instanceof LocalEndpointsError) throw new OnboardError(err.message);
      throw err;
    }
    const iot = new IoTClient({ ...localClientConfig(endpoints), maxAttempts: 2 });
    return { local: true, iot, endpoint: endpoints.apiEndpoint, endpoints, stateDir: o.stateDir };
  }
  return { local: false, iot: new IoTClient({}), cloudFormation: new CloudFormationClient({}) };
}

/** Runs an AWS call, turning its failure into one OnboardError that says what to do. */
export async function call<T>(target: Target, action: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw explainAwsError(err, { action, endpoint: target.endpoint, local: target.local });
  }
}

// ---- finish --------------------------------------------------------------------------------

export interface FinishOptions {
  readonly thing: string;
  readonly configPath: string;
  readonly devicesDir: string;
  readonly target: Target;
  readonly stackName?: string;
  readonly certificateId?: string;
}

export interface FinishResult {
  readonly bundlePath: string;
  readonly certificateId: string;
  readonly endpoint: { host: string; port: number };
  readonly deactivated?: string;
}

async function certificateIdFromStack(o: FinishOptions, config: BuildingConfig): Promise<string> {
  const key = certificateOutputKey(o.thing);
  const deployHint = o.target.local
    ? `\`${localDeployStep({ stateDir: o.target.stateDir, configPath: o.configPath })}\``
    : `\`${awsDeployStep({ configPath: o.configPath })}\``;
  const noCertificate = (stack: string) =>
    new OnboardError(
      `Stack ${stack} has no certificate for ${o.thing} (no output ${key}): the CSR was not there when it was deployed. Run ${deployHint} again, then --finish.`,
    );
  if (o.target.local) {
    const path = join(o.target.stateDir ?? '', STACK_OUTPUTS_FILE);
    let outputs: Record<string, Record<string, unknown>>;
    try {
      outputs = JSON.parse(readFileSync(path, 'utf8')) as Record<string, Record<string, unknown>>;
    } catch {
      throw new OnboardError(
        `Nothing is deployed to the local cloud yet (no ${path}): run ${deployHint} first, then --finish.`,
      );
    }
    const stacks = o.stackName ? [o.stackName] : Object.keys(outputs);
    if (o.stackName && !outputs[o.stackName]) {
      throw new OnboardError(
        `Stack ${o.stackName} is not deployed to the local cloud (deployed: ${Object.keys(outputs).join(', ') || 'none'}): run ${deployHint} first.`,
      );
    }
    for (const stack of stacks) {
      const value = outputs[stack]?.[key];
      if (typeof value === 'string' && value !== '') return value;
    }
    throw noCertificate(o.stackName ?? (stacks.join(', ') || 'none'));
  }
  const stackName = o.stackName ?? buildingStackName(config.buildingId);
  const cfn = o.target.cloudFormation ?? new CloudFormationClient({});
  let out: DescribeStacksCommandOutput;
  try {
    out = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
  } catch (err) {
    if ((err as Error).name === 'ValidationError' && /does not exist/i.test((err as Error).message)) {
      throw new OnboardError(
        `Stack ${stackName} is not deployed in this account and region: run \`npx cdk deploy\` first (or pass --stack NAME or --certificate-id ID).`,
      );
    }
    throw explainAwsError(err, { action: `reading stack ${stackName}`, local: false });
  }
  const stack = out.Stacks?.[0];
  if (stack?.StackStatus?.endsWith('_IN_PROGRESS')) {
    throw new OnboardError(
      `Stack ${stackName} is still deploying (${stack.StackStatus}): wait for it to finish, then --finish.`,
    );
  }
  const value = stack?.Outputs?.find((x) => x.OutputKey === key)?.OutputValue;
  if (!value) throw noCertificate(stackName);
  return value;
}

export async function finishOnboarding(o: FinishOptions): Promise<FinishResult> {
  const config = loadBuildingConfig(o.configPath);
  const device = requireDevice(config, o.thing, o.configPath);
  const dir = deviceDir(o.devicesDir, o.thing);
  const privateKeyPem = readPrivateKey(dir, o.thing);
  const record = readRecord(dir, o.thing);
  const target = o.target;

  const certificateId = o.certificateId ?? (await certificateIdFromStack(o, config));
  const described = await call(target, `reading certificate ${certificateId}`, () =>
    target.iot.send(new DescribeCertificateCommand({ certificateId })),
  ).catch((err) => {
    if ((err as Error).name === 'ResourceNotFoundException') {
      throw new OnboardError(
        `Certificate ${certificateId} does not exist${target.local ? ' in the local cloud' : ''}: it is not issued yet. Deploy again, then --finish.`,
      );
    }
    throw err;
  });
  const description = described.certificateDescription;
  const certificatePem = description?.certificatePem;
  if (!certificatePem) {
    throw new OnboardError(
      `Certificate ${certificateId} is not issued yet (no PEM): wait for the deploy to finish, then --finish.`,
    );
  }
  if (!certificateMatchesKey(certificatePem, privateKeyPem)) {
    throw new OnboardError(
      `Certificate ${certificateId} was issued for another key, not ${join(dir, PRIVATE_KEY_FILE)}: the stack was deployed before the latest CSR. Deploy again, then --finish.`,
    );
  }
  const status = description?.status;
  if (status !== 'ACTIVE') {
    throw new OnboardError(
      status === 'PENDING_ACTIVATION' || status === 'PENDING_TRANSFER'
        ? `Certificate ${certificateId} is ${status}, not issued for use yet: wait for the deploy to finish, then --finish.`
        : `Certificate ${certificateId} is ${status}: a device cannot connect with it. Run \`npx zonectl onboard ${o.thing} --rotate\`, deploy, then --finish.`,
    );
  }

  let endpoint: { host: string; port: number };
  let caPem: string;
  if (target.endpoints) {
    endpoint = { host: target.endpoints.mqttHost, port: target.endpoints.mqttPort };
    try {
      caPem = readFileSync(target.endpoints.caFile, 'utf8');
    } catch {
      throw new OnboardError(
        `Cannot read the local CA ${target.endpoints.caFile}: restart the local cloud with \`${localUpStep({ stateDir: target.stateDir })}\`.`,
      );
    }
  } else {
    const out = await call(target, 'looking up the IoT data endpoint', () =>
      target.iot.send(new DescribeEndpointCommand({ endpointType: 'iot:Data-ATS' })),
    );
    if (!out.endpointAddress)
      throw new OnboardError('DescribeEndpoint returned no address: check the region.');
    endpoint = { host: out.endpointAddress, port: AWS_MQTT_PORT };
    caPem = AMAZON_ROOT_CA_1_PEM;
  }

  const bundle = deviceBundle({
    device,
    config,
    target: target.local ? 'local' : 'aws',
    endpoint,
    certificateId,
    certificatePem,
    privateKeyPem,
    caPem,
    region: target.endpoints?.region ?? (await target.iot.config.region().catch(() => undefined)),
    createdAt: new Date().toISOString(),
  });
  writeAtomic(join(dir, CERTIFICATE_FILE), certificatePem);
  writeAtomic(join(dir, CA_FILE), caPem);
  const bundlePath = join(dir, BUNDLE_FILE);
  writeSecret(bundlePath, `${JSON.stringify(bundle, null, 2)}\n`, true);

  let deactivated: string | undefined;
  const previous = record.previousCertificateId;
  if (previous && previous !== certificateId) {
    await call(target, `deactivating the previous certificate ${previous}`, () =>
      target.iot.send(new UpdateCertificateCommand({ certificateId: previous, newStatus: 'INACTIVE' })),
    ).then(
      () => {
        deactivated = previous;
      },
      (err) => {
        // The redeploy may have replaced (deleted) the old certificate already, or it was
        // revoked (a revoked certificate cannot be set INACTIVE; it is unusable anyway).
        const name = (err as Error).name;
        if (name !== 'ResourceNotFoundException' && name !== 'CertificateStateException') throw err;
      },
    );
  }
  dropPrevious(dir);
  writeRecord(dir, { thing: o.thing, certificateId, target: target.local ? 'local' : 'aws' });
  return { bundlePath, certificateId, endpoint, deactivated };
}

// ---- revoke --------------------------------------------------------------------------------

export async function revokeDevice(o: {
  thing: string;
  devicesDir: string;
  target: Target;
  certificateId?: string;
}): Promise<{ certificateId: string }> {
  const dir = deviceDir(o.devicesDir, o.thing);
  const certificateId = o.certificateId ?? readRecord(dir, o.thing).certificateId;
  if (!certificateId) {
    throw new OnboardError(
      `No certificate is recorded for ${o.thing} in ${dir}: pass --certificate-id ID (see the stack output ${certificateOutputKey(o.thing)}).`,
    );
  }
  await revokeCertificate(o.target, certificateId, `revoking certificate ${certificateId}`);
  return { certificateId };
}

/** UpdateCertificate REVOKED, with an unknown certificate explained. */
export async function revokeCertificate(
  target: Target,
  certificateId: string,
  action: string,
): Promise<void> {
  await call(target, action, () =>
    target.iot.send(new UpdateCertificateCommand({ certificateId, newStatus: 'REVOKED' })),
  ).catch((err) => {
    if ((err as Error).name === 'ResourceNotFoundException') {
      throw new OnboardError(
        `Certificate ${certificateId} does not exist here: check --local and the region.`,
      );
    }
    throw err;
  });
}
