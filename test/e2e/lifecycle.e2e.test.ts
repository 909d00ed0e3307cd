/**
 * A device agent through the life of the local cloud and of its certificate:
 * - the cloud goes away (broker, API and all) while the agent keeps sampling; a new cloud on
 *   the same state dir and ports comes back and is deployed again; every reading taken in
 *   between is stored once, in order;
 * - the device's certificate is revoked: the running agent is disconnected and cannot
 *   connect again.
 */
import { DescribeCertificateCommand } from '@aws-sdk/client-iot';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { revokeDevice, targetFor } from '../../provisioning/onboard';
import { provesAbsenceFor } from '../helpers/absence';
import { ACTUATOR, SENSOR } from './helpers/assembly';
import { sampleSpaced, scriptedTemperature } from './helpers/drivers';
import { type Pipeline, printLogsOnFailure, startPipeline, storedReadings } from './helpers/pipeline';

let pipeline: Pipeline;

beforeAll(async () => {
  pipeline = await startPipeline();
}, 240_000);

printLogsOnFailure(() => pipeline);

afterAll(async () => {
  await pipeline?.close();
});

describe('device agent through outages and revocation', () => {
  it('stores every reading taken while the cloud was down, in order, exactly once', async () => {
    const sensor = scriptedTemperature(19, 0.1);
    const { agent, lines } = await pipeline.startAgent(SENSOR, { sensors: [sensor] });
    await expect
      .poll(() => agent.stats().online, { timeout: 20_000, message: 'the agent connects' })
      .toBe(true);
    await sampleSpaced(agent, 2);
    await expect
      .poll(() => agent.stats().pending === 0, {
        timeout: 20_000,
        message: 'readings before the outage acknowledged',
      })
      .toBe(true);

    await pipeline.stopCloud();
    await expect
      .poll(() => !agent.stats().online, { timeout: 20_000, message: 'the agent notices the outage' })
      .toBe(true);
    const firstOutageSeq = agent.stats().nextSeq;
    // a few seconds down, sampling all along (the agent keeps trying to reconnect meanwhile)
    for (let i = 0; i < 4; i++) {
      await sampleSpaced(agent, 1);
      await provesAbsenceFor(700, 'a connection to the stopped cloud');
    }
    expect(agent.stats().online).toBe(false);
    expect(agent.stats().pending).toBe(4);
    const outageSeqs = [0, 1, 2, 3].map((i) => firstOutageSeq + i);

    const redeploy = await pipeline.startCloud();
    expect(redeploy.report.filter((l) => l.status === 'created')).toEqual([]);
    await expect
      .poll(() => agent.stats().online, { timeout: 30_000, message: 'the agent reconnects to the new cloud' })
      .toBe(true);
    await expect
      .poll(() => agent.stats().pending === 0, {
        timeout: 30_000,
        message: 'the buffered readings acknowledged',
      })
      .toBe(true);
    expect(lines.some((l) => l.startsWith('offline:'))).toBe(true);

    const stored = await vi.waitFor(
      async () => {
        const rows = await storedReadings(pipeline, SENSOR);
        expect(
          outageSeqs.filter((seq) => !rows.some((r) => r.seq === seq)),
          'outage readings not stored',
        ).toEqual([]);
        return rows;
      },
      { timeout: 40_000, interval: 100 },
    );
    // de-duplicate by (thing, seq): each outage reading once, stored in the order taken
    const bySeq = new Map<number, (typeof stored)[number][]>();
    for (const row of stored) bySeq.set(row.seq, [...(bySeq.get(row.seq) ?? []), row]);
    for (const seq of outageSeqs) expect(bySeq.get(seq), `seq ${seq}`).toHaveLength(1);
    const seqsInTimeOrder = stored.map((r) => r.seq);
    expect(seqsInTimeOrder).toEqual([...seqsInTimeOrder].sort((a, b) => a - b));
    expect(stored.map((r) => r.seq)).toEqual([0, 1, ...outageSeqs]);
    expect(stored.map((r) => r.temperature)).toEqual(sensor.history);
    await agent.stop();
  }, 150_000);

  it('disconnects a running agent when its certificate is revoked, and it cannot reconnect', async () => {
    const { agent, lines } = await pipeline.startAgent(ACTUATOR);
    await expect
      .poll(() => agent.stats().online, { timeout: 20_000, message: 'the agent connects' })
      .toBe(true);
    const target = targetFor({ local: true, stateDir: pipeline.stateDir });
    try {
      const { certificateId } = await revokeDevice({
        thing: ACTUATOR,
        devicesDir: pipeline.devicesDir,
        target,
      });
      expect(certificateId).toBe(pipeline.bundles[ACTUATOR]!.certificateId);
      const described = await pipeline.clients().iot.send(new DescribeCertificateCommand({ certificateId }));
      expect(described.certificateDescription?.status).toBe('REVOKED');
    } finally {
      target.iot.destroy();
    }
    await expect
      .poll(() => !agent.stats().online, { timeout: 20_000, message: 'the agent is disconnected' })
      .toBe(true);
    // several backoff rounds (100-500 ms) later it is still out: the broker keeps refusing it
    const refusals = () =>
      pipeline.logLines(`for client '${ACTUATOR}'`, 'certificate is REVOKED; connection refused');
    await expect
      .poll(() => refusals().length, { timeout: 20_000, message: 'reconnection attempts refused' })
      .toBeGreaterThanOrEqual(2);
    expect(agent.stats().online).toBe(false);
    // The agent logs the refusal after the broker's log has it; on a busy machine, a moment later.
    await expect
      .poll(() => lines.some((l) => /refused|TLS handshake/.test(l)), { timeout: 10_000 })
      .toBe(true);
    await agent.stop();
  }, 90_000);

  it('keeps a revoked certificate revoked when the unchanged assembly is deployed again', async () => {
    // runs after the revocation above; CloudFormation leaves an unchanged resource alone, so
    // the deploy succeeds and a revocation made since stays in force
    const certificateId = pipeline.bundles[ACTUATOR]!.certificateId;
    const { iot } = pipeline.clients();
    const before = await iot.send(new DescribeCertificateCommand({ certificateId }));
    expect(before.certificateDescription?.status).toBe('REVOKED');
    await pipeline.deploy();
    const after = await iot.send(new DescribeCertificateCommand({ certificateId }));
    expect(after.certificateDescription?.status).toBe('REVOKED');
  }, 60_000);
});
