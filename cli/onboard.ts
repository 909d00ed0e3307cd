/**
 * `zonectl onboard <thing>` (key + CSR), `zonectl onboard <thing> --finish` (device bundle),
 * `zonectl onboard <thing> --rotate` (new key; --finish deactivates the old certificate) and
 * `zonectl revoke <thing>` (UpdateCertificate REVOKED). The provisioning library (keys, the AWS
 * SDK) loads when a command runs, not when the program starts.
 */
import type { Command } from 'commander';
import { DEFAULT_CSR_DIR, DEFAULT_DEVICES_DIR, DEFAULT_LOCAL_STATE_DIR } from '../contracts/paths';

/** The provisioning library and its errors, loaded on first use. */
const provisioning = async () => ({
  ...(await import('../provisioning/onboard')),
  ...(await import('../provisioning/errors')),
});

const print = (line: string) => process.stdout.write(`${line}\n`);

/** Runs a command body: expected errors print one message and exit 1, without a stack trace. */
async function guarded(body: () => Promise<void>): Promise<void> {
  const { OnboardError } = await provisioning();
  try {
    await body();
  } catch (err) {
    if (err instanceof OnboardError) {
      process.stderr.write(`${err.message}\n`);
      process.exitCode = 1;
      return;
    }
    throw err;
  }
}

interface OnboardFlags {
  config: string;
  csrDir: string;
  devicesDir: string;
  rotate?: boolean;
  finish?: boolean;
  local?: boolean;
  stateDir: string;
  stack?: string;
  certificateId?: string;
}

export function registerOnboardCommand(program: Command): void {
  program
    .command('onboard <thing>')
    .description('create a device key and CSR; after a deploy, --finish writes the device bundle')
    .option('--config <file>', 'building config', 'building.json')
    .option('--csr-dir <dir>', 'where the CDK app reads CSRs', DEFAULT_CSR_DIR)
    .option(
      '--devices-dir <dir>',
      'where private keys and bundles are kept (git-ignored)',
      DEFAULT_DEVICES_DIR,
    )
    .option('--rotate', 'replace the key; the old certificate is deactivated at --finish')
    .option('--finish', 'after a deploy: fetch the certificate and endpoint and write the device bundle')
    .option('--local', 'use the local cloud (endpoints.json in --state-dir) instead of AWS')
    .option('--state-dir <dir>', 'local cloud state directory', DEFAULT_LOCAL_STATE_DIR)
    .option('--stack <name>', 'stack that holds the certificate (default: the building stack)')
    .option('--certificate-id <id>', 'certificate id, instead of reading the stack outputs')
    .action((thing: string, flags: OnboardFlags) =>
      guarded(async () => {
        const { finishOnboarding, OnboardError, startOnboarding, targetFor } = await provisioning();
        if (flags.finish) {
          if (flags.rotate)
            throw new OnboardError('--rotate and --finish go in two steps: rotate, deploy, then --finish.');
          const target = targetFor({ local: flags.local, stateDir: flags.stateDir });
          const result = await finishOnboarding({
            thing,
            configPath: flags.config,
            devicesDir: flags.devicesDir,
            target,
            stackName: flags.stack,
            certificateId: flags.certificateId,
          }).finally(() => target.iot.destroy());
          print(`Wrote the device bundle ${result.bundlePath} (mode 0600: it holds the private key).`);
          print(
            `  certificate ${result.certificateId}, broker ${result.endpoint.host}:${result.endpoint.port}`,
          );
          if (result.deactivated) print(`  deactivated the previous certificate ${result.deactivated}`);
          print(
            `Run it here: zonectl device run ${thing}${flags.devicesDir !== DEFAULT_DEVICES_DIR ? ` --devices-dir ${flags.devicesDir}` : ''}`,
          );
          print(
            'Or copy the bundle to the device and run: npx tsx device/main.ts --bundle bundle.json (see docs/devices.md).',
          );
          return;
        }
        const result = await startOnboarding({
          thing,
          configPath: flags.config,
          csrDir: flags.csrDir,
          devicesDir: flags.devicesDir,
          rotate: flags.rotate,
        });
        print(
          `${result.rotated ? 'Rotated the key of' : 'Created a key for'} ${thing}: ${result.keyPath} (mode 0600)`,
        );
        print(`Wrote the CSR ${result.csrPath}`);
        print('Next:');
        for (const [i, step] of result.nextSteps.entries()) print(`  ${i + 1}. ${step}`);
      }),
    );

  program
    .command('revoke <thing>')
    .description("revoke a device's certificate (UpdateCertificate REVOKED); the device is disconnected")
    .option('--devices-dir <dir>', 'where onboarding records are kept', DEFAULT_DEVICES_DIR)
    .option('--local', 'use the local cloud instead of AWS')
    .option('--state-dir <dir>', 'local cloud state directory', DEFAULT_LOCAL_STATE_DIR)
    .option('--certificate-id <id>', 'certificate id, instead of the one recorded at --finish')
    .action(
      (
        thing: string,
        flags: { devicesDir: string; local?: boolean; stateDir: string; certificateId?: string },
      ) =>
        guarded(async () => {
          const { revokeDevice, targetFor } = await provisioning();
          const target = targetFor({ local: flags.local, stateDir: flags.stateDir });
          const { certificateId } = await revokeDevice({
            thing,
            devicesDir: flags.devicesDir,
            target,
            certificateId: flags.certificateId,
          }).finally(() => target.iot.destroy());
          print(
            `Revoked certificate ${certificateId} of ${thing}; the broker disconnects it and refuses it from now on.`,
          );
          print(`To give ${thing} a new identity: zonectl onboard ${thing} --rotate, deploy, then --finish.`);
        }),
    );
}
