/**
 * A fixed wait that proves something does not happen: the test checks right after it that
 * nothing changed, so the wait is as long as the thing would take to show. `absent` names
 * what must not happen, for the reader. Waiting for something that should happen is a poll
 * instead (`expect.poll`, `vi.waitFor`), never a fixed wait.
 */
export function provesAbsenceFor(ms: number, _absent: string): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
