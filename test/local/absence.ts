/**
 * The one kind of fixed wait the local-cloud tests allow: a wait that proves an absence. The
 * test waits `ms` and then checks that something did not happen in that time (a message not
 * delivered, a batch not deleted). Every wait for something that does happen polls with
 * vitest's `expect.poll` or `vi.waitFor` instead.
 */
export function provesAbsenceFor(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
