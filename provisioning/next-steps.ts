import { CONTEXT, DEFAULT_CSR_DIR, DEFAULT_DEVICES_DIR, DEFAULT_LOCAL_STATE_DIR } from '../contracts';

/**
 * The commands onboarding tells an operator to run next, in one place so every message names
 * the step that really works, with the options the operator used (a CSR folder other than the
 * default must reach `cdk synth` as context, a devices folder other than the default must reach
 * `device run`). Each is a command line to copy as it is, from the repository root.
 *
 * Deploying to the local cloud is two commands against a running `npx zonectl local up`:
 * `npx cdk synth` writes the cloud assembly (cdk.out) with a certificate per CSR, and
 * `npx zonectl local deploy` deploys it into the running local cloud. `local up` alone only
 * starts the local cloud; it deploys nothing unless given `--assembly`.
 */

export interface StepOptions {
  readonly csrDir?: string;
  readonly devicesDir?: string;
  readonly stateDir?: string;
  readonly configPath?: string;
}

const given = (flag: string, value: string | undefined, fallback: string) =>
  value !== undefined && value !== fallback ? ` ${flag} ${value}` : '';

function contextArgs(o: StepOptions): string {
  return (
    given(
      '-c',
      o.configPath && `${CONTEXT.buildingConfig}=${o.configPath}`,
      `${CONTEXT.buildingConfig}=building.json`,
    ) + given('-c', o.csrDir && `${CONTEXT.csrDir}=${o.csrDir}`, `${CONTEXT.csrDir}=${DEFAULT_CSR_DIR}`)
  );
}

/** Deploy to AWS: the stack issues a certificate from each CSR. */
export const awsDeployStep = (o: StepOptions = {}) => `npx cdk deploy${contextArgs(o)}`;

/** Deploy to the running local cloud. */
export const localDeployStep = (o: StepOptions = {}) =>
  `npx cdk synth${contextArgs(o)} && npx zonectl local deploy${given('--state-dir', o.stateDir, DEFAULT_LOCAL_STATE_DIR)}`;

/** Start the local cloud (in its own terminal; it runs in the foreground). */
export const localUpStep = (o: StepOptions = {}) =>
  `npx zonectl local up${given('--state-dir', o.stateDir, DEFAULT_LOCAL_STATE_DIR)}`;

/** Write the device bundle after a deploy. */
export const finishStep = (thing: string, o: StepOptions & { local?: boolean } = {}) =>
  `npx zonectl onboard ${thing} --finish${o.local ? ' --local' : ''}${given('--config', o.configPath, 'building.json')}${given('--devices-dir', o.devicesDir, DEFAULT_DEVICES_DIR)}${o.local ? given('--state-dir', o.stateDir, DEFAULT_LOCAL_STATE_DIR) : ''}`;

/** Run the agent on this machine with simulated drivers. */
export const deviceRunStep = (thing: string, o: StepOptions = {}) =>
  `npx zonectl device run ${thing}${given('--devices-dir', o.devicesDir, DEFAULT_DEVICES_DIR)}`;

/** Build what to copy to the device: the agent in one file, the native library and the bundle. */
export const devicePackStep = (thing: string, o: StepOptions = {}) =>
  `npx zonectl device pack ${thing}${given('--devices-dir', o.devicesDir, DEFAULT_DEVICES_DIR)}`;
