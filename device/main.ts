/**
 * The agent's entry point on a device:
 *
 *   npx tsx device/main.ts --bundle ./bundle.json [--data-dir ./data]
 *   node zonectl-agent.mjs --bundle ./bundle.json      (built by device/build.ts or `zonectl device pack`)
 *
 * Runs with simulated drivers unless a program imports `runAgent` and passes its own.
 * SIGINT/SIGTERM flush the buffer, report the shadow, disconnect and exit 0.
 */
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { type Agent, type AgentOptions, runAgent } from './agent';
import { BundleError, isWorldReadable, loadBundle } from './bundle';

export type { Agent, AgentOptions, AgentStats } from './agent';
export { runAgent } from './agent';
export { type DeviceBundle, loadBundle, parseBundle } from './bundle';
export type { ActuatorDriver, SensorDriver, SensorValues } from './drivers';
export { simulatedActuators, simulatedSensors } from './drivers';
export { DEFAULT_EDGE_POLICY, type EdgePolicyOptions } from './edge-policy';

/** Stops the agent on SIGINT/SIGTERM and exits 0 once everything is closed. */
export function stopOnSignals(agent: Agent, log: (line: string) => void = console.error): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: flushing and disconnecting`);
    agent.stop().then(
      () => process.exit(0),
      (err) => {
        log(`stop failed: ${(err as Error).message}`);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
}

const USAGE = 'usage: node zonectl-agent.mjs --bundle <bundle.json> [--data-dir <dir>]';

/** The command line: --bundle (required) and --data-dir; anything else is refused with the usage. */
export function parseAgentArgs(
  args: readonly string[],
): { bundle: string; dataDir?: string } | { help: true } {
  let values: { bundle?: string; 'data-dir'?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: {
        bundle: { type: 'string' },
        'data-dir': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new BundleError(`${(err as Error).message}\n${USAGE}`);
  }
  if (values.help) return { help: true };
  if (!values.bundle)
    throw new BundleError(`option --bundle is missing: expected the device's bundle.json\n${USAGE}`);
  if (values['data-dir'] === '')
    throw new BundleError(`option --data-dir is empty: expected a directory\n${USAGE}`);
  return { bundle: values.bundle, dataDir: values['data-dir'] };
}

async function main(args: readonly string[]): Promise<void> {
  try {
    const parsed = parseAgentArgs(args);
    if ('help' in parsed) {
      console.log(USAGE);
      return;
    }
    const path = resolve(parsed.bundle);
    const bundle = loadBundle(path);
    if (isWorldReadable(path)) console.error(`warning: ${path} holds a private key; chmod 600 it`);
    const dataDir = parsed.dataDir ?? join(dirname(path), 'data');
    const agent = await runAgent(bundle, { dataDir } satisfies AgentOptions);
    stopOnSignals(agent);
    console.error(
      `${bundle.thing}: agent running with simulated drivers (data in ${dataDir}); Ctrl-C stops it`,
    );
  } catch (err) {
    if (err instanceof BundleError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
}

const entry = process.argv[1];
if (entry && import.meta.url === pathToFileURL(resolve(entry)).href) await main(process.argv.slice(2));
