/**
 * `zonectl device run <thing>`: runs the device agent from the bundle that
 * `zonectl onboard <thing> --finish` wrote, with simulated drivers (a laptop has no sensors).
 */
import { join } from 'node:path';
import type { Command } from 'commander';
import { BUNDLE_FILE, DEFAULT_DEVICES_DIR } from '../contracts';
import { runAgent } from '../device/agent';
import { BundleError, loadBundle } from '../device/bundle';
import { stopOnSignals } from '../device/main';
import { argument, CliError, existingDirectory, option, thingName } from './options';

export function registerDeviceCommand(program: Command): void {
  const device = program.command('device').description('run device agents');
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
    .action(async (thing: string, flags: { devicesDir: string; sim?: boolean }) => {
      const dir = join(flags.devicesDir, thing);
      let bundle: ReturnType<typeof loadBundle>;
      try {
        bundle = loadBundle(join(dir, BUNDLE_FILE));
      } catch (err) {
        if (!(err instanceof BundleError)) throw err;
        throw new CliError(err.message.replaceAll('<thing>', thing));
      }
      process.stderr.write(
        `[${thing}] simulated drivers: senses ${bundle.senses.join(', ') || 'nothing'}, drives ${bundle.drives.join(', ') || 'nothing'}; Ctrl-C stops\n`,
      );
      const agent = await runAgent(bundle, { dataDir: join(dir, 'data') });
      stopOnSignals(agent);
    });
}
