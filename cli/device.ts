/**
 * `zonectl device provision <thing> --claim <dir>`: a device's first boot with a claim
 * (provisioning/first-boot.ts); the bundle is written as `onboard --finish` writes it.
 * `zonectl device run <thing>`: runs the device agent from the bundle that
 * `zonectl onboard <thing> --finish` (or `device provision`) wrote, with simulated drivers (a
 * laptop has no sensors); with `--claim` it provisions first when there is no bundle yet.
 * `zonectl device pack <thing>`: the folder to copy to the device (provisioning/device-package.ts).
 * The device SDK and the agent's builder load when a command runs, not with the command list.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { BUNDLE_FILE, DEFAULT_DEVICES_DIR } from '../contracts/paths';
import { AgentBuildError, crtPlatforms } from '../device/build';
import {
  argument,
  CliError,
  directoryToUse,
  existingDirectory,
  existingFile,
  matching,
  oneOf,
  option,
  thingName,
} from './options';
import { reportFailure } from './run';

const zoneId = matching(
  /^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/,
  "a zone id of lower-case letters, digits and '-'",
);
const claimDirectory = existingDirectory(
  'the claim folder that `npx zonectl claim create` writes',
  'claim.json',
);

/** Provisions the thing with the claim in `flags.claim`, printing each step. */
async function provision(
  thing: string,
  flags: { claim: string; zone?: string; devicesDir: string },
): Promise<void> {
  const say = (line: string) => process.stderr.write(`[${thing}] ${line}\n`);
  const [{ ClaimError, loadClaim }, { provisionFirstBoot }] = await Promise.all([
    import('../device/provision'),
    import('../provisioning/first-boot'),
  ]);
  let claim: ReturnType<typeof loadClaim>;
  try {
    claim = loadClaim(flags.claim);
  } catch (err) {
    if (err instanceof ClaimError) throw new CliError(err.message);
    throw err;
  }
  const result = await provisionFirstBoot({
    thing,
    zone: flags.zone,
    claim,
    devicesDir: flags.devicesDir,
    log: say,
  });
  if (result.alreadyProvisioned) {
    say(
      `already provisioned: ${result.bundlePath} (certificate ${result.certificateId.slice(0, 12)}); nothing to do`,
    );
    return;
  }
  if (result.resumed.length > 0) say(`resumed after: ${result.resumed.join(', ')}`);
  say(`provisioned in zone ${result.zone}: wrote ${result.bundlePath} (mode 0600: it holds the private key)`);
}

export function registerDeviceCommand(program: Command): void {
  const device = program
    .command('device')
    .description('provision and run device agents, or pack one for a device');
  device
    .command('provision')
    .addArgument(argument('<thing>', 'thing name printed on the device', thingName))
    .description(
      "the device's first boot: key and CSR made here, certificate and registration through the claim",
    )
    .addOption(
      option(
        '--claim <dir>',
        'the claim folder (claim.json from zonectl claim create)',
        claimDirectory,
      ).makeOptionMandatory(),
    )
    .addOption(
      option('--zone <zone>', 'the zone the device is installed in (checked against the inventory)', zoneId),
    )
    .addOption(
      option(
        '--devices-dir <dir>',
        'where keys and bundles are kept',
        directoryToUse('a devices directory'),
        DEFAULT_DEVICES_DIR,
      ),
    )
    .action(async (thing: string, flags: { claim: string; zone?: string; devicesDir: string }) => {
      try {
        await provision(thing, flags);
        process.stderr.write(
          `Run it: zonectl device run ${thing}${flags.devicesDir !== DEFAULT_DEVICES_DIR ? ` --devices-dir ${flags.devicesDir}` : ''}\n`,
        );
      } catch (err) {
        reportFailure(err);
      }
      // The device SDK's native event loop can keep Node running after the claim connection
      // is closed (awslabs/aws-crt-nodejs#600); provisioning is over either way, so the
      // command ends here.
      process.exit(process.exitCode ?? 0);
    });
  device
    .command('run')
    .addArgument(argument('<thing>', 'thing name of an onboarded device', thingName))
    .description('run the device agent from its bundle until SIGINT/SIGTERM')
    .addOption(
      option(
        '--devices-dir <dir>',
        'where bundles are kept',
        existingDirectory('the devices directory that `npx zonectl onboard` writes'),
        DEFAULT_DEVICES_DIR,
      ),
    )
    .option('--sim', 'use simulated sensor and actuator drivers (the default: no hardware drivers ship here)')
    .addOption(
      option(
        '--claim <dir>',
        'provision first with this claim when the device has no bundle yet',
        claimDirectory,
      ),
    )
    .addOption(option('--zone <zone>', 'with --claim: the zone the device is installed in', zoneId))
    .action(
      async (thing: string, flags: { devicesDir: string; sim?: boolean; claim?: string; zone?: string }) => {
        const [{ runAgent }, { loadBundle }, { stopOnSignals }] = await Promise.all([
          import('../device/agent'),
          import('../device/bundle'),
          import('../device/main'),
        ]);
        const dir = join(flags.devicesDir, thing);
        if (flags.claim && !existsSync(join(dir, BUNDLE_FILE))) {
          await provision(thing, { claim: flags.claim, zone: flags.zone, devicesDir: flags.devicesDir });
        }
        const bundle = await forThing(thing, async () => loadBundle(join(dir, BUNDLE_FILE)));
        process.stderr.write(
          `[${thing}] simulated drivers: senses ${bundle.senses.join(', ') || 'nothing'}, drives ${bundle.drives.join(', ') || 'nothing'}; Ctrl-C stops\n`,
        );
        const agent = await runAgent(bundle, { dataDir: join(dir, 'data') });
        stopOnSignals(agent);
      },
    );

  device
    .command('pack')
    .addArgument(argument('<thing>', 'thing name of an onboarded device', thingName))
    .description(
      'write the folder to copy to the device: the agent in one file, its native library and the bundle',
    )
    .addOption(
      option(
        '--devices-dir <dir>',
        'where bundles are kept',
        existingDirectory('the devices directory that `npx zonectl onboard` writes'),
        DEFAULT_DEVICES_DIR,
      ),
    )
    .addOption(
      option(
        '--out <dir>',
        'the folder to write (default: .zonectl/dist/<thing>)',
        directoryToUse('a directory'),
      ),
    )
    .addOption(
      option(
        '--platform <platform>',
        "the device's platform, for aws-crt's native library, e.g. linux-arm64-glibc (default: this machine's)",
        (value: string) => oneOf(crtPlatforms())(value),
      ),
    )
    .addOption(
      option(
        '--entry <file>',
        'a program that imports runAgent from device/main with real drivers (default: simulated drivers)',
        existingFile('a TypeScript or JavaScript file'),
      ),
    )
    .action(
      async (
        thing: string,
        flags: { devicesDir: string; out?: string; platform?: string; entry?: string },
      ) => {
        const outDir = flags.out ?? join('.zonectl', 'dist', thing);
        const { packDevice } = await import('../provisioning/device-package');
        const packed = await forThing(thing, () =>
          packDevice({
            thing,
            devicesDir: flags.devicesDir,
            outDir,
            platform: flags.platform,
            entry: flags.entry,
          }),
        );
        const print = (line: string) => process.stdout.write(`${line}\n`);
        print(`Wrote ${packed.outDir} for ${thing} (${packed.platform}):`);
        print(`  ${relativeName(packed.agentFile)}  the agent, ${(packed.bytes / 1024).toFixed(0)} KiB`);
        print(`  ${relativeName(packed.libraryFile)}  aws-crt's native library`);
        print(
          `  ${relativeName(packed.bundleFile)}  identity and endpoint (mode 0600: it holds the private key)`,
        );
        print('Copy the folder to the device over a secure channel, e.g.');
        print(`  scp -r ${outDir} pi@device:/opt/zonectl`);
        print('and run it there (Node.js 20 or later, nothing else), from that folder:');
        print(`  ${packed.runCommand}`);
      },
    );
}

/** Runs `load` and turns a BundleError into a CliError naming the thing. */
async function forThing<T>(thing: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (err) {
    const { BundleError } = await import('../device/bundle');
    if (err instanceof BundleError) throw new CliError(err.message.replaceAll('<thing>', thing));
    if (err instanceof AgentBuildError) throw new CliError(err.message);
    throw err;
  }
}

const relativeName = (path: string) => path.split('/').pop() ?? path;
