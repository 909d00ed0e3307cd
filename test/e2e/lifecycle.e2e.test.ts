/**
 * A device agent through the life of the local cloud and of its certificate:
 * - the cloud goes away (broker, API and all) while the agent keeps sampling; a new cloud on
 *   the same state dir and ports comes back and is deployed again; every reading taken in
 *   between is stored once, in order;
 * - the device's certificate is revoked: the running agent is disconnected and cannot
 *   connect again.
 */
import { DescribeCertificateCommand } from '@aws-sdk/client-iot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { revokeDevice, targetFor } from '../../provisioning/onboard';
import { waitFor } from '../helpers/wait';
import { ACTUATOR, SENSOR } from './helpers/assembly';
import { sampleSpaced, scriptedTemperature } from './helpers/drivers';
import {
  eventually,
  type Pipeline,
  printLogsOnFailure,
  startPipeline,
  storedReadings,
} from './helpers/pipeline';

let pipeline: Pipeline;

beforeAll(async () => {
  pipeline = await startPipeline();
}, 240_000);

printLogsOnFailure(() => pipeline);

afterAll(async () => {
  await pipeline?.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('device agent through outages and revocation', () => {
  it('stores every reading taken while the cloud was down, in order, exactly once', async () => {
    const sensor = scriptedTemperature(19, 0.1);
    const { agent, lines } = await pipeline.startAgent(SENSOR, { sensors: [sensor] });
    await waitFor(() => agent.stats().online, 20_000, 'the agent connects');
    await sampleSpaced(agent, 2);
    await waitFor(() => agent.stats().pending === 0, 20_000, 'readings before the outage acknowledged');

    await pipeline.stopCloud();
    await waitFor(() => !agent.stats().online, 20_000, 'the agent notices the outage');
    const firstOutageSeq = agent.stats().nextSeq;
    // a few seconds down, sampling all along (the agent keeps trying to reconnect meanwhile)
    for (let i = 0; i < 4; i++) {
      await sampleSpaced(agent, 1);
      await sleep(700);
    }
    expect(agent.stats().online).toBe(false);
    expect(agent.stats().pending).toBe(4);
    const outageSeqs = [0, 1, 2, 3].map((i) => firstOutageSeq + i);

    const redeploy = await pipeline.startCloud();
    expect(redeploy.report.filter((l) => l.status === 'created')).toEqual([]);
    await waitFor(() => agent.stats().online, 30_000, 'the agent reconnects to the new cloud');
    await waitFor(() => agent.stats().pending === 0, 30_000, 'the buffered readings acknowledged');
    expect(lines.some((l) => l.startsWith('offline:'))).toBe(true);

    const stored = await eventually(
      async () => {
        const rows = await storedReadings(pipeline, SENSOR);
        return outageSeqs.every((seq) => rows.some((r) => r.seq === seq)) ? rows : undefined;
      },
      40_000,
      'the outage readings stored',
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
    await waitFor(() => agent.stats().online, 20_000, 'the agent connects');
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
    await waitFor(() => !agent.stats().online, 20_000, 'the agent is disconnected');
    // several backoff rounds (100-500 ms) later it is still out: the broker keeps refusing it
    const refusals = () =>
      pipeline.logLines(`for client '${ACTUATOR}'`, 'certificate is REVOKED; connection refused');
    await eventually(
      () => (refusals().length >= 2 ? true : undefined),
      20_000,
      'reconnection attempts refused',
    );
    expect(agent.stats().online).toBe(false);
    expect(lines.some((l) => /refused|TLS handshake/.test(l))).toBe(true);
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
