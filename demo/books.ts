import { QueryCommand, type TimestreamQueryClient } from '@aws-sdk/client-timestream-query';
import { READING_MEASURE_NAME } from '../contracts';
import type { DeadLetterScanner } from '../dashboard/dead-letter-scan';
import type { Agent } from '../device/agent';
import type { LocalCloud } from '../local/cloud';

/**
 * The demo's books: readings the devices' publishes had acknowledged, readings found in the
 * store and readings in the dead-letter queue, read through the pipeline's own APIs (the
 * Timestream Query API and SQS). `published - stored - deadLettered = 0` means nothing
 * acknowledged was lost.
 */

export interface Books {
  readonly published: number;
  readonly stored: number;
  readonly deadLettered: number;
  /** published - stored - deadLettered: zero when every acknowledged reading is accounted for. */
  readonly unaccounted: number;
  readonly pending: number;
  readonly dropped: number;
  /** Dead-lettered readings per short reason. */
  readonly deadLetterReasons: Record<string, number>;
}

/** An agent of this run and the first sequence number it published in this run. */
export interface CountedAgent {
  readonly agent: Agent;
  readonly thing: string;
  readonly fromSeq: number;
}

export interface BooksOptions {
  readonly query: TimestreamQueryClient;
  /** Reads the dead-letter queue (dashboard/dead-letter-scan.ts), shared with the dashboard. */
  readonly deadLetters: DeadLetterScanner;
  /** The local store, to see whether the table has any record yet without a failing query. */
  readonly timestream: Pick<LocalCloud['timestream'], 'query'>;
  readonly database: string;
  readonly table: string;
  /** Dead letters sent before this time (epoch ms) belong to earlier runs. */
  readonly since: number;
  readonly agents: () => readonly CountedAgent[];
}

export interface BookKeeper {
  /** Counts the books now; counts never overlap (each waits for the one before). */
  count(): Promise<Books>;
  /** The last books counted, if any. */
  last(): Books | undefined;
}

export function createBookKeeper(o: BooksOptions): BookKeeper {
  let tableHasReadings = false;
  const countStored = async (): Promise<number> => {
    const ranges = o
      .agents()
      .map((a) => `(thing = '${a.thing}' AND seq >= ${a.fromSeq})`)
      .join(' OR ');
    // Timestream creates dimension and measure columns with the first record that has them.
    if (!tableHasReadings) {
      const probe = await o.timestream.query(`SELECT count(*) FROM "${o.database}"."${o.table}"`);
      if (Number(probe.Rows[0]?.Data[0]?.ScalarValue ?? 0) === 0) return 0;
      tableHasReadings = true;
    }
    const out = await o.query.send(
      new QueryCommand({
        QueryString:
          `SELECT count(*) AS n FROM "${o.database}"."${o.table}" ` +
          `WHERE measure_name = '${READING_MEASURE_NAME}' AND (${ranges})`,
      }),
    );
    return Number(out.Rows?.[0]?.Data?.[0]?.ScalarValue ?? 0);
  };

  // Every dead letter, read without consuming it (the scanner the dashboard shares).
  const countDeadLetters = async (): Promise<{ readings: number; reasons: Record<string, number> }> => {
    const reasons: Record<string, number> = {};
    let readings = 0;
    for (const letter of await o.deadLetters()) {
      if (letter.sentAt < o.since) continue;
      readings += letter.readings;
      reasons[letter.summary] = (reasons[letter.summary] ?? 0) + letter.readings;
    }
    return { readings, reasons };
  };

  let last: Books | undefined;
  const countBooks = async (): Promise<Books> => {
    const stats = o.agents().map((a) => a.agent.stats());
    const published = stats.reduce((s, x) => s + x.published, 0);
    const [stored, dead] = await Promise.all([countStored(), countDeadLetters()]);
    last = {
      published,
      stored,
      deadLettered: dead.readings,
      unaccounted: published - stored - dead.readings,
      pending: stats.reduce((s, x) => s + x.pending, 0),
      dropped: stats.reduce((s, x) => s + x.dropped, 0),
      deadLetterReasons: dead.reasons,
    };
    return last;
  };

  // One count at a time: two overlapping counts would each miss what the other holds hidden.
  let counting: Promise<unknown> = Promise.resolve();
  return {
    count() {
      const next = counting.then(countBooks, countBooks);
      counting = next.catch(() => undefined);
      return next;
    },
    last: () => last,
  };
}
