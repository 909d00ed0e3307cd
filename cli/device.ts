/**
 * `zonectl device run <thing>`: runs the device agent from the bundle that
 * `zonectl onboard <thing> --finish` wrote, with simulated drivers (a laptop has no sensors).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { BUNDLE_FILE, DEFAULT_DEVICES_DIR } from '../contracts';
import { runAgent } from '../device/agent';
import { BundleError, loadBundle } from '../device/bundle';
import { stopOnSignals } from '../device/main';
import { ClaimError, loadClaim } from '../device/provision';
import { OnboardError } from '../provisioning/errors';
import { provisionFirstBoot } from '../provisioning/first-boot';

/** Provisions the thing with the claim in `claimDir`; prints each step; false when it failed. */
async function provision(
  thing: string,
  flags: { claim: string; zone?: string; devicesDir: string },
): Promise<boolean> {
  const say = (line: string) => process.stderr.write(`[${thing}] ${line}\n`);
  try {
    const claim = loadClaim(flags.claim);
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
    } else {
      if (result.resumed.length > 0) say(`resumed after: ${result.resumed.join(', ')}`);
      say(
        `provisioned in zone ${result.zone}: wrote ${result.bundlePath} (mode 0600: it holds the private key)`,
      );
    }
    return true;
  } catch (err) {
    if (err instanceof OnboardError || err instanceof ClaimError) {
      process.stderr.write(`${err.message}\n`);
      process.exitCode = 1;
      return false;
    }
    throw err;
  }
}

export function registerDeviceCommand(program: Command): void {
  const device = program.command('device').description('provision and run device agents');
  device
    .command('provision <thing>')
    .description(
      "the device's first boot: key and CSR made here, certificate and registration through the claim",
    )
    .requiredOption('--claim <dir>', 'the claim folder (claim.json from zonectl claim create)')
    .option('--zone <zone>', 'the zone the device is installed in (checked against the building inventory)')
    .option('--devices-dir <dir>', 'where keys and bundles are kept', DEFAULT_DEVICES_DIR)
    .action(async (thing: string, flags: { claim: string; zone?: string; devicesDir: string }) => {
      if (await provision(thing, flags)) {
        process.stderr.write(
          `Run it: zonectl device run ${thing}${flags.devicesDir !== DEFAULT_DEVICES_DIR ? ` --devices-dir ${flags.devicesDir}` : ''}\n`,
        );
      }
    });
  device
    .command('run <thing>')
    .description('run the device agent from its bundle until SIGINT/SIGTERM')
    .option('--devices-dir <dir>', 'where bundles are kept', DEFAULT_DEVICES_DIR)
    .option('--sim', 'use simulated sensor and actuator drivers (the default: no hardware drivers ship here)')
    .option('--claim <dir>', 'provision first with this claim when the device has no bundle yet')
    .option(
      '--zone <zone>',
      'with --claim: the zone the device is installed in (checked against the inventory)',
    )
    .action(
      async (thing: string, flags: { devicesDir: string; sim?: boolean; claim?: string; zone?: string }) => {
        const dir = join(flags.devicesDir, thing);
        if (flags.claim && !existsSync(join(dir, BUNDLE_FILE))) {
          if (
            !(await provision(thing, { claim: flags.claim, zone: flags.zone, devicesDir: flags.devicesDir }))
          )
            return;
        }
        let bundle: ReturnType<typeof loadBundle>;
        try {
          bundle = loadBundle(join(dir, BUNDLE_FILE));
        } catch (err) {
          if (!(err instanceof BundleError)) throw err;
          process.stderr.write(`${err.message.replace('<thing>', thing).replaceAll('<thing>', thing)}\n`);
          process.exitCode = 1;
          return;
        }
        process.stderr.write(
          `[${thing}] simulated drivers: senses ${bundle.senses.join(', ') || 'nothing'}, drives ${bundle.drives.join(', ') || 'nothing'}; Ctrl-C stops\n`,
        );
        const agent = await runAgent(bundle, { dataDir: join(dir, 'data') });
        stopOnSignals(agent);
      },
    );
}
