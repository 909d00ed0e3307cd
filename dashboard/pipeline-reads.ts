import {
  GetThingShadowCommand,
  IoTDataPlaneClient,
  UpdateThingShadowCommand,
} from '@aws-sdk/client-iot-data-plane';
import { SQSClient } from '@aws-sdk/client-sqs';
import {
  QueryCommand,
  type QueryCommandOutput,
  TimestreamQueryClient,
} from '@aws-sdk/client-timestream-query';
import {
  COMMAND_SHADOW_NAME,
  type DesiredCommandState,
  type LocalClientConfig,
  type ReportedCommandState,
} from '../contracts';
import { createDeadLetterScanner, type DeadLetterScanner } from './dead-letter-scan';

/**
 * Everything the dashboard reads from (and writes to) the pipeline, through the AWS APIs
 * exactly as it would against AWS: Timestream queries, the command shadows and the dead-letter
 * queue. Only the client configuration says it is the local cloud.
 */

export type Row = Record<string, string | undefined>;

/** How many dead letters the page lists: the newest ones. */
export const DEAD_LETTERS_LISTED = 10;

export interface DeadLetterSummary {
  /** How many messages the queue holds. */
  readonly count: number;
  /**
   * The newest `DEAD_LETTERS_LISTED`, newest first. `at` is when the data is from, on the
   * building's clock (the newest reading's timestamp); `sentAt` is when SQS received it, on the
   * wall clock, for a letter whose readings carry no time.
   */
  readonly latest: ReadonlyArray<{
    at?: number;
    sentAt: number;
    thing?: string;
    source: string;
    reason: string;
  }>;
}

export interface PipelineReads {
  /** Every row of a Timestream query, all pages, as column name -> scalar value (undefined for NULL). */
  query(sql: string): Promise<Row[]>;
  /** The command shadow of a thing; empty when the thing has none yet. */
  commandShadow(thing: string): Promise<{ desired: DesiredCommandState; reported: ReportedCommandState }>;
  /** Writes `state.desired` of a thing's command shadow. */
  updateDesired(thing: string, desired: DesiredCommandState, clientToken: string): Promise<void>;
  /** How many messages the dead-letter queue holds and the latest few, described. */
  deadLetters(): Promise<DeadLetterSummary>;
  close(): void;
}

export function pipelineReads(
  client: LocalClientConfig,
  deadLetterQueueUrl?: string,
  /** A scanner shared with other readers of the queue (the demo's books); else the dashboard's own. */
  sharedScanner?: DeadLetterScanner,
): PipelineReads {
  const timestream = new TimestreamQueryClient(client);
  const shadows = new IoTDataPlaneClient(client);
  const sqs = new SQSClient(client);
  const scan =
    sharedScanner ?? (deadLetterQueueUrl ? createDeadLetterScanner(sqs, deadLetterQueueUrl) : undefined);
  return {
    async query(sql) {
      const rows: Row[] = [];
      let next: string | undefined;
      do {
        const out: QueryCommandOutput = await timestream.send(
          new QueryCommand({ QueryString: sql, NextToken: next }),
        );
        const names = (out.ColumnInfo ?? []).map((c) => c.Name ?? '');
        for (const row of out.Rows ?? []) {
          const record: Row = {};
          row.Data?.forEach((d, i) => {
            record[names[i]!] = d.NullValue ? undefined : d.ScalarValue;
          });
          rows.push(record);
        }
        next = out.NextToken;
      } while (next);
      return rows;
    },

    async commandShadow(thing) {
      try {
        const out = await shadows.send(
          new GetThingShadowCommand({ thingName: thing, shadowName: COMMAND_SHADOW_NAME }),
        );
        const doc = JSON.parse(new TextDecoder().decode(out.payload)) as {
          state?: { desired?: DesiredCommandState; reported?: ReportedCommandState };
        };
        return { desired: doc.state?.desired ?? {}, reported: doc.state?.reported ?? {} };
      } catch (err) {
        if ((err as Error).name === 'ResourceNotFoundException') return { desired: {}, reported: {} };
        throw err;
      }
    },

    async updateDesired(thing, desired, clientToken) {
      await shadows.send(
        new UpdateThingShadowCommand({
          thingName: thing,
          shadowName: COMMAND_SHADOW_NAME,
          payload: new TextEncoder().encode(JSON.stringify({ state: { desired }, clientToken })),
        }),
      );
    },

    async deadLetters() {
      if (!scan) return { count: 0, latest: [] };
      const letters = await scan();
      // Newest first: by the readings' time where there is one, else by when SQS received it.
      const latest = letters
        .map((l) => ({
          at: l.readingsAt,
          sentAt: l.sentAt,
          thing: l.thing,
          source: l.source,
          reason: l.reason,
        }))
        .sort((x, y) => (y.at ?? y.sentAt) - (x.at ?? x.sentAt) || y.sentAt - x.sentAt)
        .slice(0, DEAD_LETTERS_LISTED);
      return { count: letters.length, latest };
    },

    close() {
      timestream.destroy();
      shadows.destroy();
      sqs.destroy();
    },
  };
}
