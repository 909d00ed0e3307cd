/**
 * `npm run chaos`: the fault table of issue 13. Each run starts `zonectl local up` in a child
 * process on a fresh copy of the deployed stack, publishes sequence-numbered QoS 1 readings,
 * kills the process mid-burst with the signal, starts it again on the same state dir and counts
 * by sequence number: acknowledged = stored + dead-lettered, lost must be 0.
 *
 *   npm run chaos                         3 runs each of SIGKILL and SIGTERM mid-burst, and of
 *                                         SIGKILL while `zonectl local deploy` redeploys the stack
 *   npm run chaos -- --runs 5 --after 1000
 *   npm run chaos -- --abuse              the abuse suite and MQTT security matrix (./abuse)
 *   npm run chaos -- --full-disk          only the full-disk row (state dir on a filled tmpfs)
 *
 * Exits 1 if any run lost an acknowledged reading or failed. Only localhost traffic.
 */
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { abuseMain } from './abuse';
import { fullDisk, type KillDuring, type KillOutcome, killMidBurst } from './faults';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

function option(args: readonly string[], name: string, fallback: number): number {
  const i = args.indexOf(name);
  if (i < 0) return fallback;
  const v = Number(args[i + 1]);
  if (!Number.isInteger(v) || v <= 0) {
    console.error(`${name} needs a positive whole number, got ${args[i + 1] ?? 'nothing'}`);
    process.exit(2);
  }
  return v;
}

/** A fault case's row of the table: its books, its stop time and how long the books took to settle. */
function booksRow(
  name: string,
  run: number,
  o: Pick<
    KillOutcome,
    'acked' | 'stored' | 'deadLettered' | 'lost' | 'lostSample' | 'duplicates' | 'settleSeconds'
  >,
  stop: string,
): string[] {
  return [
    name,
    String(run),
    String(o.acked),
    String(o.stored),
    String(o.deadLettered),
    o.lost > 0 ? `${o.lost} (${o.lostSample.join(',')})` : '0',
    String(o.duplicates),
    stop,
    o.settleSeconds.toFixed(1),
  ];
}

async function main(args: readonly string[]): Promise<void> {
  if (args.includes('--help')) {
    console.log(
      'usage: npm run chaos -- [--runs N (3)] [--after ACKS (500)] [--in-flight N (20)] [--full-disk] | --abuse',
    );
    return;
  }
  if (args.includes('--abuse')) return abuseMain(repoRoot);
  const runs = option(args, '--runs', 3);
  const after = option(args, '--after', 500);
  const inFlight = option(args, '--in-flight', 20);
  console.log(
    `${new Date().toISOString()}  ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}`,
  );
  console.log(`kill after ${after} acknowledged readings, ${inFlight} QoS 1 publishes in flight\n`);
  const rows: string[][] = [
    ['signal', 'run', 'acked', 'stored', 'dead-lettered', 'lost', 'duplicates', 'stop ms', 'settle s'],
  ];
  let failed = false;
  const cases: ReadonlyArray<{ name: string; signal: NodeJS.Signals; during: KillDuring }> = args.includes(
    '--full-disk',
  )
    ? []
    : [
        { name: 'SIGKILL', signal: 'SIGKILL', during: 'burst' },
        { name: 'SIGTERM', signal: 'SIGTERM', during: 'burst' },
        { name: 'SIGKILL in a redeploy', signal: 'SIGKILL', during: 'redeploy' },
      ];
  for (const c of cases) {
    for (let run = 1; run <= runs; run++) {
      let o: KillOutcome;
      try {
        o = await killMidBurst({
          repoRoot,
          signal: c.signal,
          during: c.during,
          killAfterAcks: after,
          inFlight,
          settleTimeoutMs: 120_000,
        });
      } catch (err) {
        failed = true;
        rows.push([c.name, String(run), `failed: ${(err as Error).message.split('\n')[0]}`]);
        continue;
      }
      if (o.lost > 0) failed = true;
      rows.push(booksRow(c.name, run, o, String(o.stopMs)));
      console.error(`${c.name} run ${run}: acked ${o.acked}, lost ${o.lost}`);
    }
  }
  // The full disk: publishes held while the state dir's tmpfs is full, then space freed.
  for (let run = 1; run <= (args.includes('--full-disk') ? runs : 1); run++) {
    try {
      const o = await fullDisk({ repoRoot, inFlight });
      if (o.skipped !== undefined) {
        rows.push(['full disk', String(run), `skipped: ${o.skipped}`]);
        continue;
      }
      if (o.lost > 0 || !o.aliveWhileFull || !o.apiAnsweredWhileFull || !o.resumed) failed = true;
      rows.push(booksRow('full disk', run, o, '-'));
      console.error(
        `full disk run ${run}: acked ${o.acked} (${o.ackedWhileFull} while full), up ${o.aliveWhileFull}, API ${o.apiAnsweredWhileFull}, shadow update while full ${o.shadowWhileFull}, after ${o.shadowAfterFull}, resumed ${o.resumed}, waiting in the queue before the restart ${o.lostBeforeRestart}, lost ${o.lost}`,
      );
    } catch (err) {
      failed = true;
      rows.push(['full disk', String(run), `failed: ${(err as Error).message.split('\n')[0]}`]);
    }
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  console.log(line(rows[0]!));
  console.log(`| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`);
  for (const r of rows.slice(1)) console.log(line(r));
  process.exit(failed ? 1 : 0);
}

void main(process.argv.slice(2));
