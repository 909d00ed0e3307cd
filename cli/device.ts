/**
 * `zonectl device run <thing>`: runs the device agent from the bundle that
 * `zonectl onboard <thing> --finish` wrote, with simulated drivers (a laptop has no sensors).
 * The device SDK loads when the command runs, not when the program starts (`zonectl --help`).
 */
import { join } from 'node:path';
import type { Command } from 'commander';
import { BUNDLE_FILE, DEFAULT_DEVICES_DIR } from '../contracts/paths';

export function registerDeviceCommand(program: Command): void {
  const device = program.command('device').description('run device agents');
  device
    .command('run <thing>')
    .description('run the device agent from its bundle until SIGINT/SIGTERM')
    .option('--devices-dir <dir>', 'where bundles are kept', DEFAULT_DEVICES_DIR)
    .option('--sim', 'use simulated sensor and actuator drivers (the default: no hardware drivers ship here)')
    .action(async (thing: string, flags: { devicesDir: string; sim?: boolean }) => {
      const [{ runAgent }, { BundleError, loadBundle }, { stopOnSignals }] = await Promise.all([
        import('../device/agent'),
        import('../device/bundle'),
        import('../device/main'),
      ]);
      const dir = join(flags.devicesDir, thing);
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
    });
}
