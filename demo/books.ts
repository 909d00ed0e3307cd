import type { DeadLetterScanner } from '../dashboard/dead-letter-scan';
import type { ReadingsReader } from '../dashboard/readings/reader';
import type { Agent } from '../device/agent';

/**
 * The demo's books: readings the devices' publishes had acknowledged, readings found in the
 * store and readings in the dead-letter queue, read through the pipeline's own APIs (the
 * store's query API, Timestream SQL or InfluxQL behind the dashboard's ReadingsReader, and SQS). `published - stored - deadLettered = 0` means nothing
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
  /** The readings, whichever store the stack uses. */
  readonly readings: ReadingsReader;
  /** Reads the dead-letter queue (dashboard/dead-letter-scan.ts), shared with the dashboard. */
  readonly deadLetters: DeadLetterScanner;
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
  const countStored = (): Promise<number> =>
    o.readings.countStored(o.agents().map((a) => ({ thing: a.thing, fromSeq: a.fromSeq })));

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
