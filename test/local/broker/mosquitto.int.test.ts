/**
 * mosquitto_pub / mosquitto_sub (Debian's mosquitto-clients) against the broker: a second,
 * independent MQTT client over mutual TLS. Skipped when the binaries are not installed.
 */
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { telemetryTopic } from '../../../contracts';
import type { BrokerMessage } from '../../../local/broker';
import { type DeviceIdentity, type LocalIot, startLocalIot } from '../../helpers/local-iot';

/** How long the broker may take to deliver, log or disconnect. */
const POLL = { timeout: 5_000 };

const run = promisify(execFile);
const installed = spawnSync('mosquitto_pub', ['--help']).error === undefined;
if (!installed) {
  console.warn(
    'mosquitto_pub not found: skipping the mosquitto-clients tests (apt-get install -y mosquitto-clients)',
  );
}

const own = { building: 'hq', zone: 'lobby', thing: 'lobby-t1' };
const other = { building: 'hq', zone: 'lobby', thing: 'lobby-t2' };

describe.skipIf(!installed)('broker: mosquitto clients', () => {
  let env: LocalIot;
  let device: DeviceIdentity;
  beforeEach(async () => {
    env = await startLocalIot();
    device = await env.issueDevice(own.thing, {
      attributes: { building: own.building, zone: own.zone, kind: 'sensor' },
    });
  });
  afterEach(async () => {
    await env.close();
  });

  const pub = (topic: string) =>
    run(
      'mosquitto_pub',
      [
        ...['-h', 'localhost', '-p', String(env.broker.port), '-V', 'mqttv311', '-q', '1'],
        ...['--cafile', env.caFile, '--cert', device.certFile, '--key', device.keyFile],
        ...['-i', own.thing, '-t', topic, '-m', '{"t":21}'],
      ],
      { timeout: 10_000 },
    );

  it('lets a device publish its own readings with mosquitto_pub', async () => {
    const seen: BrokerMessage[] = [];
    env.broker.subscribe(telemetryTopic(own), (m) => {
      seen.push(m);
    });
    await pub(telemetryTopic(own));
    await expect.poll(() => seen.length, POLL).toBe(1);
    expect(seen[0]).toMatchObject({ clientId: own.thing, thingName: own.thing });
  });

  it('refuses mosquitto_pub on another thing’s topic', async () => {
    await expect(pub(telemetryTopic(other))).rejects.toThrow();
    expect(env.logLines('denied iot:Publish', telemetryTopic(other), `client '${own.thing}'`)).toHaveLength(
      1,
    );
  });

  it('refuses mosquitto_sub without a client certificate', async () => {
    await expect(
      run(
        'mosquitto_sub',
        [
          '-h',
          'localhost',
          '-p',
          String(env.broker.port),
          '--cafile',
          env.caFile,
          '-t',
          '#',
          '-C',
          '1',
          '-W',
          '3',
        ],
        { timeout: 10_000 },
      ),
    ).rejects.toThrow();
    await expect
      .poll(() => env.logLines('refused TLS connection', 'no client certificate').length, POLL)
      .toBe(1);
  });
});
