import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * The demo's state dir. What takes time to make is kept from run to run (each device's key and
 * CSR, the synthesized assembly); what a run produces starts empty every time (the local cloud's
 * state: registry, shadows, queues, stored readings; each agent's buffer and sequence numbers),
 * because every run simulates the same day and must give the same result. The demo only ever
 * empties a folder it made: it marks the state dir, and refuses a folder that holds other files.
 */

const MARKER = '.zonectl-demo';
/** What a demo state dir holds (the layout before the marker existed, too). */
const DEMO_ENTRIES = new Set([MARKER, 'demo.log', 'csr', 'devices', 'local', 'cdk.out']);

export class DemoStateDirError extends Error {
  override readonly name = 'DemoStateDirError';
}

/** Makes the state dir, or checks that an existing one is the demo's; marks it. */
export function claimStateDir(stateDir: string): void {
  const dir = resolve(stateDir);
  if (existsSync(dir)) {
    const foreign = readdirSync(dir).filter((e) => !DEMO_ENTRIES.has(e));
    if (!existsSync(join(dir, MARKER)) && foreign.length > 0) {
      throw new DemoStateDirError(
        `${stateDir} holds files the demo did not make (${foreign.slice(0, 3).join(', ')}${foreign.length > 3 ? ', ...' : ''}); the demo empties parts of its state dir on every run, so pass a new or empty --state-dir`,
      );
    }
  }
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, MARKER),
    'the state dir of `zonectl start`; it may empty local/ and devices/*/agent/\n',
  );
}

/** Empties what a run produces: the local cloud's state and each agent's data dir. */
export function resetRunState(stateDir: string, cloudDir: string, devicesDir: string): void {
  claimStateDir(stateDir);
  rmSync(cloudDir, { recursive: true, force: true });
  if (!existsSync(devicesDir)) return;
  for (const thing of readdirSync(devicesDir))
    rmSync(join(devicesDir, thing, 'agent'), { recursive: true, force: true });
}
