/**
 * Where onboarding leaves its files. CSRs are public and sit where the CDK app reads them
 * (context `zonectl:csrDir`); private keys and device bundles stay in the git-ignored
 * `.zonectl/devices` folder on the operator's machine.
 */
export const DEFAULT_CSR_DIR = 'onboarding/csr';
export const DEFAULT_DEVICES_DIR = '.zonectl/devices';
export const DEFAULT_LOCAL_STATE_DIR = '.zonectl/local';

export const csrFileName = (thing: string) => `${thing}.csr.pem`;
export const PRIVATE_KEY_FILE = 'private.key.pem';
export const CERTIFICATE_FILE = 'certificate.pem';
export const CA_FILE = 'ca.pem';
export const BUNDLE_FILE = 'bundle.json';

/** CDK context keys. */
export const CONTEXT = {
  buildingConfig: 'zonectl:buildingConfig',
  csrDir: 'zonectl:csrDir',
  /** 'readings' deploys the zone controller on the readings' clock (a simulated building). */
  buildingClock: 'zonectl:buildingClock',
  /**
   * The AWS Region the stacks are for (default: CDK_DEFAULT_REGION, which the CDK CLI sets from
   * the AWS profile or AWS_REGION; none leaves the stacks environment-agnostic).
   */
  region: 'zonectl:region',
} as const;

/** Stack output key holding a thing's certificate id. */
export const certificateOutputKey = (thing: string) => `Cert${thing.replace(/[^A-Za-z0-9]/g, '')}Id`;
