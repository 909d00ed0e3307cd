/**
 * Nothing acknowledged is lost when the local cloud dies mid-burst (issue 13): `zonectl local up`
 * runs in a child process on a copy of the deployed stack, a device publishes sequence-numbered
 * readings at QoS 1, the process gets SIGKILL (a crash) or SIGTERM (Ctrl-C) once some hundreds
 * are acknowledged, starts again on the same state dir, and every acknowledged sequence number
 * must be stored in Timestream or in the dead-letter queue. Once more with SIGKILL while
 * `zonectl local deploy` redeploys the stack. One run per case keeps CI short; `npm run chaos`
 * runs the multi-run table.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { killMidBurst } from '../../bench/chaos/faults';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

describe('the local cloud killed mid-burst', () => {
  for (const signal of ['SIGKILL', 'SIGTERM'] as const) {
    it(`loses no acknowledged reading to ${signal}: each is stored or dead-lettered after the restart`, {
      timeout: 300_000,
    }, async () => {
      const outcome = await killMidBurst({ repoRoot, signal, killAfterAcks: 300, settleTimeoutMs: 90_000 });
      console.log(`${signal}: ${JSON.stringify(outcome)}`);
      expect(outcome.acked).toBeGreaterThanOrEqual(300);
      expect(outcome.lostSample).toEqual([]);
      expect(outcome.lost).toBe(0);
      expect(outcome.stored + outcome.deadLettered).toBe(outcome.acked);
      if (signal === 'SIGTERM') expect(outcome.stopMs).toBeLessThan(60_000);
    });
  }

  it('loses no acknowledged reading to SIGKILL while `zonectl local deploy` redeploys the stack, and runs the pipeline after the restart', {
    timeout: 300_000,
  }, async () => {
    const outcome = await killMidBurst({
      repoRoot,
      signal: 'SIGKILL',
      during: 'redeploy',
      killAfterAcks: 200,
      settleTimeoutMs: 90_000,
    });
    console.log(`SIGKILL in a redeploy: ${JSON.stringify(outcome)}`);
    expect(outcome.acked).toBeGreaterThanOrEqual(200);
    expect(outcome.lostSample).toEqual([]);
    expect(outcome.lost).toBe(0);
    // The books balance only if the restarted cloud still has its functions, rules and queues.
    expect(outcome.stored + outcome.deadLettered).toBe(outcome.acked);
  });
});
