import type { DeadLetterEntry } from '../../contracts';

/** The port for the dead-letter destination of readings the pipeline could not store. */
export interface DeadLetterSink {
  /**
   * Sends the entries. Returns the indices of entries that could not be sent, with the reason;
   * every other entry was sent.
   */
  send(entries: readonly DeadLetterEntry[]): Promise<{ failed: Array<{ index: number; reason: string }> }>;
}
