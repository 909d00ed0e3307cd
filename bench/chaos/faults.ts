/**
 * Fault cases that stop the local cloud under load and count what survived, by sequence number:
 * every reading the broker acknowledged must be stored or dead-lettered once the cloud runs
 * again. Each case runs the cloud in a child process on its own copy of the deployed stack.
 */

import { execFileSync, spawn } from 'node:child_process';
import {
  closeSync,
  cpSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import {
  GetThingShadowCommand,
  IoTDataPlaneClient,
  UpdateThingShadowCommand,
} from '@aws-sdk/client-iot-data-plane';
import { ListQueuesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { localClientConfig } from '../../contracts';
import { type ChildCloud, startChildCloud } from './child-cloud';
import { type Books, countBooks, startPublisher } from './ledger';
import { CHAOS_SENSOR, type ChaosWorld, chaosWorld } from './world';

export interface KillOutcome extends Books {
  readonly signal: NodeJS.Signals;
  /** What the cloud was doing when the signal came. */
  readonly during: KillDuring;
  /** How long the process took to exit after the signal. */
  readonly stopMs: number;
  /** Seconds from the restart until the books balanced (or the wait ended). */
  readonly settleSeconds: number;
  /** What the clean stop reported about accepted work, if anything. */
  readonly stopNote: string;
}

/** A burst of publishes alone, or the same burst while `zonectl local deploy` redeploys the stack. */
export type KillDuring = 'burst' | 'redeploy';

export interface KillOptions {
  readonly repoRoot: string;
  readonly signal: NodeJS.Signals;
  /** @default 'burst' */
  readonly during?: KillDuring;
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
    const during = o.during ?? 'burst';
    if (during === 'redeploy') await redeployUnderWay(o.repoRoot, world, cloud);
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
    return { ...books, signal: o.signal, during, stopMs: stopped.ms, stopNote };
  } finally {
    await cloud?.stop('SIGTERM');
    if (cloud) writeFileSync(join(world.root, 'restart.log'), cloud.output());
    // A run that lost readings keeps its state dir and both logs for the post-mortem.
    if (keep || process.env.ZONECTL_CHAOS_KEEP) console.error(`kept ${world.root}`);
    else world.remove();
  }
}

/**
 * Starts `zonectl local deploy` of the stack's own assembly into the running cloud (a redeploy:
 * every resource is compared, the functions' code is staged again, the event source mappings and
 * rules are put again) and returns once the deploy is under way, so the signal lands in it.
 */
async function redeployUnderWay(repoRoot: string, world: ChaosWorld, cloud: ChildCloud): Promise<void> {
  const deploy = spawn(
    process.execPath,
    [
      join(repoRoot, 'bin', 'zonectl.mjs'),
      'local',
      'deploy',
      '--state-dir',
      world.stateDir,
      '--assembly',
      world.assembly,
    ],
    { stdio: 'ignore' },
  );
  deploy.on('error', () => {});
  // The deploy reaches the cloud once its command has loaded (a few hundred ms); the signal is
  // sent when the cloud logs the deploy's first change (a function or rule put again).
  const from = cloud.output().length;
  const deadline = Date.now() + 30_000;
  while (!/ (replaced|created|removed)\b/.test(cloud.output().slice(from)) && Date.now() < deadline) {
    await sleep(1);
  }
}

export interface FullDiskOptions {
  readonly repoRoot: string;
  /** Size of the tmpfs the state dir lives on; default 32 MB. */
  readonly sizeMb?: number;
  /** QoS 1 publishes waiting for PUBACK at once. */
  readonly inFlight?: number;
  /** How long the disk stays full once publishes stopped being acknowledged; default 5 s. */
  readonly holdMs?: number;
  readonly settleTimeoutMs?: number;
}

export type FullDiskOutcome =
  | { readonly skipped: string }
  | (Books & {
      readonly skipped?: undefined;
      /** Readings acknowledged before the disk was filled. */
      readonly ackedBeforeFull: number;
      /** Readings acknowledged while the disk was full (journaled before it filled up). */
      readonly ackedWhileFull: number;
      /** Whether the process was running and its API answered while the disk was full. */
      readonly aliveWhileFull: boolean;
      readonly apiAnsweredWhileFull: boolean;
      /** What a shadow update got while the disk was full: its HTTP status and error name. */
      readonly shadowWhileFull: string;
      /** Whether a shadow update was accepted and read back once the filler was removed. */
      readonly shadowAfterFull: boolean;
      /** Whether publishes were acknowledged again once the filler was removed. */
      readonly resumed: boolean;
      /** Acknowledged readings not yet stored nor dead-lettered before the restart (in the queue). */
      readonly lostBeforeRestart: number;
      /** What the cloud logged about the full disk (first line). */
      readonly fullNote: string;
      readonly settleSeconds: number;
    });

/** Fills the file system of `dir` with one file, until it refuses; returns the file. */
function fillUp(dir: string): string {
  const filler = join(dir, 'filler');
  const fd = openSync(filler, 'w');
  const chunk = Buffer.alloc(256 * 1024, 1);
  try {
    for (;;) {
      let written: number;
      try {
        written = writeSync(fd, chunk);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOSPC') break;
        throw err;
      }
      if (written < chunk.length) {
        // the last partial write: take the rest byte by byte is not needed, the next write fails
      }
    }
    // Small leftovers: write what still fits.
    const small = Buffer.alloc(4096, 1);
    for (;;) {
      try {
        writeSync(fd, small);
      } catch {
        break;
      }
    }
  } finally {
    closeSync(fd);
  }
  return filler;
}

/**
 * A full disk (issue 13): the state dir on a small tmpfs, readings published at QoS 1, then the
 * file system filled up with one file. Publishes must be held without PUBACK (never acknowledged
 * and lost), the cloud must stay up and answer its API, and once the file is removed the held
 * work completes: every acknowledged reading is stored or dead-lettered. Needs root to mount a
 * tmpfs; the outcome says why when it cannot.
 */
export async function fullDisk(o: FullDiskOptions): Promise<FullDiskOutcome> {
  if (process.platform !== 'linux') return { skipped: 'a tmpfs mount needs Linux' };
  if (process.getuid?.() !== 0)
    return { skipped: 'mounting a tmpfs needs root (the test runs as a normal user)' };
  const world = await chaosWorld(o.repoRoot, 'full-disk');
  const mount = join(world.root, 'tmpfs');
  mkdirSync(mount, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${o.sizeMb ?? 32}m`, 'tmpfs', mount], {
      stdio: 'pipe',
    });
  } catch (err) {
    world.remove();
    const why = String((err as { stderr?: Buffer }).stderr ?? (err as Error).message).trim();
    return { skipped: `mount -t tmpfs was refused: ${why}` };
  }
  const stateDir = join(mount, 'state');
  let cloud: ChildCloud | undefined;
  let keep = false;
  try {
    cpSync(world.stateDir, stateDir, { recursive: true });
    cloud = await startChildCloud({ repoRoot: o.repoRoot, stateDir });
    const publisher = await startPublisher({
      bundle: world.bundle,
      endpoints: cloud.endpoints,
      inFlight: o.inFlight ?? 20,
      firstSeq: 1,
    });
    await publisher.ackedAtLeast(100);
    const filler = fillUp(mount);
    const ackedBeforeFull = publisher.acked.size;
    // Wait until publishes stop being acknowledged (the journal refuses), at most 20 s.
    let last = publisher.acked.size;
    let quietSince = Date.now();
    const fullSince = Date.now();
    while (Date.now() - quietSince < 3000 && Date.now() - fullSince < 20_000) {
      await sleep(250);
      if (publisher.acked.size !== last) {
        last = publisher.acked.size;
        quietSince = Date.now();
      }
    }
    await sleep(o.holdMs ?? 5000);
    const ackedWhileFull = publisher.acked.size - ackedBeforeFull;
    const aliveWhileFull = cloud.alive();
    const sqs = new SQSClient({ ...localClientConfig(cloud.endpoints), maxAttempts: 1 });
    const apiAnsweredWhileFull = await sqs
      .send(new ListQueuesCommand({}))
      .then((r) => (r.QueueUrls ?? []).length > 0)
      .catch(() => false);
    sqs.destroy();
    const shadows = new IoTDataPlaneClient({ ...localClientConfig(cloud.endpoints), maxAttempts: 1 });
    const updateShadow = (firmware: string) =>
      shadows.send(
        new UpdateThingShadowCommand({
          thingName: CHAOS_SENSOR,
          payload: new TextEncoder().encode(JSON.stringify({ state: { reported: { firmware } } })),
        }),
      );
    const shadowWhileFull = await updateShadow('while-full').then(
      () => '200 accepted',
      (err: { name?: string; $metadata?: { httpStatusCode?: number } }) =>
        `${err.$metadata?.httpStatusCode ?? '?'} ${err.name ?? 'error'}`,
    );
    rmSync(filler);
    const resumedAt = publisher.acked.size;
    const resumed = await Promise.race([
      publisher.ackedAtLeast(resumedAt + 50).then(() => true),
      sleep(20_000).then(() => false),
    ]);
    const shadowAfterFull = await updateShadow('after-full')
      .then(() => shadows.send(new GetThingShadowCommand({ thingName: CHAOS_SENSOR })))
      .then((r) => new TextDecoder().decode(r.payload).includes('"after-full"'))
      .catch(() => false);
    shadows.destroy();
    await publisher.stop();
    const acked = new Set(publisher.acked);
    let books = await settle({ ...world, stateDir }, cloud, acked, o.settleTimeoutMs ?? 20_000);
    // Readings whose ingest failed while the disk was full wait in the ingest queue for their
    // visibility timeout (minutes); a restart makes them visible at once, so the books close
    // within the test's time.
    const lostBeforeRestart = books.lost;
    writeFileSync(join(world.root, 'full-disk-first.log'), cloud.output());
    if (books.lost > 0) {
      await cloud.stop('SIGTERM');
      writeFileSync(join(world.root, 'full-disk-first.log'), cloud.output());
      cloud = await startChildCloud({ repoRoot: o.repoRoot, stateDir });
      books = await settle({ ...world, stateDir }, cloud, acked, o.settleTimeoutMs ?? 20_000);
    }
    const fullNote =
      readFileSync(join(world.root, 'full-disk-first.log'), 'utf8')
        .split('\n')
        .find((l) => /ENOSPC|no space left/i.test(l)) ?? '';
    if (books.lost > 0 || !resumed) keep = true;
    return {
      ...books,
      ackedBeforeFull,
      ackedWhileFull,
      aliveWhileFull,
      apiAnsweredWhileFull,
      shadowWhileFull,
      shadowAfterFull,
      resumed,
      lostBeforeRestart,
      fullNote: fullNote.slice(0, 300),
    };
  } finally {
    await cloud?.stop('SIGTERM');
    if (cloud) writeFileSync(join(world.root, 'full-disk.log'), cloud.output());
    if (keep || process.env.ZONECTL_CHAOS_KEEP) {
      cpSync(stateDir, join(world.root, 'state-after'), { recursive: true });
      console.error(`kept ${world.root}`);
    }
    try {
      execFileSync('umount', [mount], { stdio: 'pipe' });
    } catch (err) {
      console.error(`umount ${mount}: ${(err as Error).message}`);
    }
    if (!keep && !process.env.ZONECTL_CHAOS_KEEP) world.remove();
  }
}
