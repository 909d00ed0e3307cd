/**
 * `zonectl onboard <thing>` (key + CSR), `zonectl onboard <thing> --finish` (device bundle),
 * `zonectl onboard <thing> --rotate` (new key; the old certificate stays ACTIVE until
 * `--retire-previous`, once the device has switched) and
 * `zonectl revoke <thing>` (UpdateCertificate REVOKED). The provisioning library (keys, the AWS
 * SDK) loads when a command runs, not with the command list.
 */
import { type Command, Option } from 'commander';
import { DEFAULT_CSR_DIR, DEFAULT_DEVICES_DIR } from '../contracts/paths';
import {
  argument,
  buildingConfigFile,
  certificateId,
  directoryToUse,
  localStateDirOption,
  option,
  stackName,
  thingName,
} from './options';

const print = (line: string) => process.stdout.write(`${line}\n`);

interface OnboardFlags {
  config: string;
  csrDir: string;
  devicesDir: string;
  rotate?: boolean;
  finish?: boolean;
  retirePrevious?: boolean;
  local?: boolean;
  stateDir: string;
  stack?: string;
  certificateId?: string;
}

export function registerOnboardCommand(program: Command): void {
  program
    .command('onboard')
    .addArgument(argument('<thing>', 'thing name from the building config', thingName))
    .description('create a device key and CSR; after a deploy, --finish writes the device bundle')
    .addOption(option('--config <file>', 'building config', buildingConfigFile, 'building.json'))
    .addOption(
      option(
        '--csr-dir <dir>',
        'where the CDK app reads CSRs',
        directoryToUse('a directory'),
        DEFAULT_CSR_DIR,
      ),
    )
    .addOption(
      option(
        '--devices-dir <dir>',
        'where private keys and bundles are kept (git-ignored)',
        directoryToUse('a directory'),
        DEFAULT_DEVICES_DIR,
      ),
    )
    .addOption(
      new Option(
        '--rotate',
        'replace the key; the old certificate stays ACTIVE until --retire-previous',
      ).conflicts(['finish', 'retirePrevious']),
    )
    .option('--finish', 'after a deploy: fetch the certificate and endpoint and write the device bundle')
    .addOption(
      new Option(
        '--retire-previous',
        'after a rotation, once the device runs its new bundle: deactivate the old certificate',
      ).conflicts('finish'),
    )
    .option('--local', 'use the local cloud (endpoints.json in --state-dir) instead of AWS')
    .addOption(localStateDirOption())
    .addOption(
      option('--stack <name>', 'stack that holds the certificate (default: the building stack)', stackName),
    )
    .addOption(
      option('--certificate-id <id>', 'certificate id, instead of reading the stack outputs', certificateId),
    )
    .action(async (thing: string, flags: OnboardFlags) => {
      const [{ finishOnboarding, startOnboarding, targetFor }, { devicePackStep, deviceRunStep }] =
        await Promise.all([import('../provisioning/onboard'), import('../provisioning/next-steps')]);
      if (flags.retirePrevious) {
        const { retirePrevious } = await import('../provisioning/onboard');
        const target = targetFor({ local: flags.local, stateDir: flags.stateDir });
        const result = await retirePrevious({ thing, devicesDir: flags.devicesDir, target }).finally(() =>
          target.iot.destroy(),
        );
        print(
          result.retired
            ? `Deactivated the previous certificate ${result.retired} of ${thing}; it is outside the stack now (delete it with the AWS CLI when you no longer need it, see docs/devices.md).`
            : `${thing} has no previous certificate to retire.`,
        );
        return;
      }
      if (flags.finish) {
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
        if (result.previous) {
          print(
            `  the previous certificate ${result.previous} stays ACTIVE: once the device runs this bundle, run \`npx zonectl onboard ${thing} --retire-previous${flags.local ? ' --local' : ''}\``,
          );
        }
        const steps = { devicesDir: flags.devicesDir };
        print(`Run it here (simulated sensors): ${deviceRunStep(thing, steps)}`);
        print(
          `Or build what to copy to the device (see docs/devices.md, "Running the agent on a device"): ${devicePackStep(thing, steps)}`,
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
    });

  program
    .command('revoke')
    .addArgument(argument('<thing>', 'thing name', thingName))
    .description("revoke a device's certificate (UpdateCertificate REVOKED); the device is disconnected")
    .addOption(
      option(
        '--devices-dir <dir>',
        'where onboarding records are kept',
        directoryToUse('a directory'),
        DEFAULT_DEVICES_DIR,
      ),
    )
    .option('--local', 'use the local cloud instead of AWS')
    .addOption(localStateDirOption())
    .addOption(
      option(
        '--certificate-id <id>',
        'certificate id, instead of the one recorded at --finish',
        certificateId,
      ),
    )
    .action(
      async (
        thing: string,
        flags: { devicesDir: string; local?: boolean; stateDir: string; certificateId?: string },
      ) => {
        const { revokeDevice, targetFor } = await import('../provisioning/onboard');
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
        print(
          `To give ${thing} a new identity: npx zonectl onboard ${thing} --rotate, deploy, then --finish.`,
        );
      },
    );
}
