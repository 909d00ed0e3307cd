/**
 * Fault cases that stop the local cloud under load and count what survived, by sequence number:
 * every reading the broker acknowledged must be stored or dead-lettered once the cloud runs
 * again. Each case runs the cloud in a child process on its own copy of the deployed stack.
 */

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ChildCloud, startChildCloud } from './child-cloud';
import { type Books, countBooks, startPublisher } from './ledger';
import { CHAOS_SENSOR, type ChaosWorld, chaosWorld } from './world';

export interface KillOutcome extends Books {
  readonly signal: NodeJS.Signals;
  /** How long the process took to exit after the signal. */
  readonly stopMs: number;
  /** Seconds from the restart until the books balanced (or the wait ended). */
  readonly settleSeconds: number;
  /** What the clean stop reported about accepted work, if anything. */
  readonly stopNote: string;
}

export interface KillOptions {
  readonly repoRoot: string;
  readonly signal: NodeJS.Signals;
  /** The signal is sent once this many readings are acknowledged. */
  readonly killAfterAcks: number;
  /** QoS 1 publishes waiting for PUBACK at once. */
  readonly inFlight?: number;
  /** How long to wait after the restart for the books to balance; default 60 s. */
  readonly settleTimeoutMs?: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until nothing acknowledged is missing and the ingest queue is empty, or the time is up. */
export async function settle(
  world: ChaosWorld,
  cloud: ChildCloud,
  acked: ReadonlySet<number>,
  timeoutMs: number,
): Promise<Books & { readonly settleSeconds: number }> {
  const started = Date.now();
  const src = {
    endpoints: cloud.endpoints,
    thing: CHAOS_SENSOR,
    database: world.database,
    table: world.table,
    deadLetterQueueUrlPath: world.deadLetterQueueUrlPath,
    ingestQueueName: world.ingestQueueName,
  };
  let books = await countBooks(src, acked);
  while ((books.lost > 0 || books.queued > 0) && Date.now() - started < timeoutMs) {
    await sleep(1000);
    books = await countBooks(src, acked);
  }
  return { ...books, settleSeconds: (Date.now() - started) / 1000 };
}

/** Publishes numbered readings, sends `signal` mid-burst, restarts on the same state dir, counts. */
export async function killMidBurst(o: KillOptions): Promise<KillOutcome> {
  const world = await chaosWorld(o.repoRoot, `kill-${o.signal.toLowerCase()}`);
  let cloud: ChildCloud | undefined;
  let keep = false;
  try {
    cloud = await startChildCloud({ repoRoot: o.repoRoot, stateDir: world.stateDir });
    const publisher = await startPublisher({
      bundle: world.bundle,
      endpoints: cloud.endpoints,
      inFlight: o.inFlight ?? 20,
      firstSeq: 1,
    });
    await publisher.ackedAtLeast(o.killAfterAcks);
    const stopped = await cloud.stop(o.signal);
    const output = cloud.output();
    await publisher.stop();
    const acked = new Set(publisher.acked);
    const stopNote =
      /stopping with (\d+) accepted message\(s\)[^\n]*/.exec(output)?.[0] ??
      /stopping: every accepted message reached its actions/.exec(output)?.[0] ??
      '';
    writeFileSync(join(world.root, 'first-run.log'), output);
    cloud = await startChildCloud({ repoRoot: o.repoRoot, stateDir: world.stateDir });
    const books = await settle(world, cloud, acked, o.settleTimeoutMs ?? 60_000);
    if (books.lost > 0) keep = true;
    return { ...books, signal: o.signal, stopMs: stopped.ms, stopNote };
  } finally {
    await cloud?.stop('SIGTERM');
    if (cloud) writeFileSync(join(world.root, 'restart.log'), cloud.output());
    // A run that lost readings keeps its state dir and both logs for the post-mortem.
    if (keep || process.env.ZONECTL_CHAOS_KEEP) console.error(`kept ${world.root}`);
    else world.remove();
  }
}
