import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RawMqtt } from '../../../bench/chaos/raw-mqtt';
import { telemetryTopic } from '../../../contracts';
import type { PolicyDocument } from '../../../local/iot/types';
import { type LocalIot, startLocalIot } from '../../helpers/local-iot';
import { connectDevice, disconnectAll } from '../../helpers/mqtt-device';

/**
 * The broker keeps policy answers per session and per connection context (certificate, client
 * id, address) across connections; a registry change must still apply to the very next check of
 * a live session and to the next CONNECT, as it did when every check read the registry afresh.
 */
const ARN = 'arn:aws:iot:us-east-1:000000000000';
const lobby = { building: 'hq', zone: 'lobby', thing: 'lobby-t1' };
const attributes = { building: 'hq', zone: 'lobby', kind: 'sensor' };

/** Connect as the thing; publish, subscribe and receive on a/... and on the thing's zone topic. */
const zonePolicy = (extra: PolicyDocument['Statement'] = []): PolicyDocument => ({
  Statement: [
    {
      Effect: 'Allow',
      Action: 'iot:Connect',
      Resource: `${ARN}:client/\${iot:Connection.Thing.ThingName}`,
    },
    {
      Effect: 'Allow',
      Action: ['iot:Publish', 'iot:Receive'],
      Resource: [
        `${ARN}:topic/a/*`,
        `${ARN}:topic/dt/zonectl/hq/\${iot:Connection.Thing.Attributes[zone]}/\${iot:Connection.Thing.ThingName}/readings`,
      ],
    },
    { Effect: 'Allow', Action: 'iot:Subscribe', Resource: `${ARN}:topicfilter/a/*` },
    ...(Array.isArray(extra) ? extra : [extra]),
  ],
});

describe('broker: registry changes during a session', () => {
  let env: LocalIot;
  beforeEach(async () => {
    env = await startLocalIot();
  });
  afterEach(async () => {
    await disconnectAll();
    await env.close();
  });

  const connect = (d: { certFile: string; keyFile: string }) =>
    connectDevice({
      port: env.broker.port,
      caFile: env.caFile,
      certFile: d.certFile,
      keyFile: d.keyFile,
      clientId: lobby.thing,
    });

  it('applies a policy that changes during a session to its next publish', async () => {
    const device = await env.issueDevice(lobby.thing, { attributes, policy: zonePolicy() });
    const sensor = await connect(device);
    await sensor.subscribe('a/#');
    await sensor.publish('a/x', 'first');
    await sensor.next('a/x');

    // the same policy name, now with an explicit Deny on a/x
    env.directory.putPolicy(
      'policy1',
      zonePolicy({ Effect: 'Deny', Action: 'iot:Publish', Resource: `${ARN}:topic/a/x` }),
    );
    sensor.publish('a/x', 'second').catch(() => {});
    await sensor.interrupted;
    expect(env.logLines('denied iot:Publish', `${ARN}:topic/a/x`, 'explicitly denied')).toHaveLength(1);
  });

  it('applies a thing attribute change during a session to its next publish', async () => {
    const device = await env.issueDevice(lobby.thing, { attributes, policy: zonePolicy() });
    const sensor = await connect(device);
    await sensor.publish(telemetryTopic(lobby), { t: 1 });

    // the thing moves to another zone: its old zone topic is no longer its own
    env.directory.addThing(lobby.thing, { ...attributes, zone: 'floor1' });
    sensor.publish(telemetryTopic(lobby), { t: 2 }).catch(() => {});
    await sensor.interrupted;
    expect(
      env.logLines('denied iot:Publish', `${ARN}:topic/${telemetryTopic(lobby)}`, 'no statement'),
    ).toHaveLength(1);
  });

  it('applies a policy attached during a session to its next delivery', async () => {
    const device = await env.issueDevice(lobby.thing, {
      attributes,
      policy: zonePolicy({ Effect: 'Deny', Action: 'iot:Receive', Resource: `${ARN}:topic/a/late` }),
    });
    const sensor = await connect(device);
    await sensor.subscribe('a/#');
    await sensor.publish('a/late', 'dropped');
    await sensor.publish('a/open', 'delivered');
    await sensor.next('a/open');
    expect(sensor.received.map((r) => r.topic)).toEqual(['a/open']);

    // a second policy attached to the certificate cannot lift an explicit Deny, but a
    // replaced first policy can
    env.directory.putPolicy('policy1', zonePolicy());
    await sensor.publish('a/late', 'now delivered');
    await sensor.next('a/late');
    expect(sensor.received.map((r) => r.topic)).toEqual(['a/open', 'a/late']);
  });
});

describe('broker: registry changes between connections', () => {
  let env: LocalIot;
  beforeEach(async () => {
    env = await startLocalIot();
  });
  afterEach(async () => {
    await env.close();
  });

  /** One raw connect + close: the CONNACK return code (0 accepted, 5 not authorized). */
  const connack = async (d: { certPem: string; keyPem: string }, clientId: string) => {
    const client = RawMqtt.open(env.broker.port, env.ca.caPem, d);
    try {
      return await client.connect(clientId);
    } finally {
      client.end();
    }
  };

  it('answers each CONNECT from the policy and certificate status of the moment', async () => {
    const device = await env.issueDevice(lobby.thing, { attributes, policy: zonePolicy() });
    expect(await connack(device, lobby.thing)).toBe(0);

    // the same policy name, now with an explicit Deny of this client id
    env.directory.putPolicy(
      'policy1',
      zonePolicy({ Effect: 'Deny', Action: 'iot:Connect', Resource: `${ARN}:client/${lobby.thing}` }),
    );
    expect(await connack(device, lobby.thing)).toBe(5);
    expect(env.logLines('denied iot:Connect', 'explicitly denied')).toHaveLength(1);
    env.directory.putPolicy('policy1', zonePolicy());
    expect(await connack(device, lobby.thing)).toBe(0);

    env.directory.setCertificateStatus(device.certificateId, 'INACTIVE');
    expect(await connack(device, lobby.thing)).toBe(5);
    env.directory.setCertificateStatus(device.certificateId, 'ACTIVE');
    expect(await connack(device, lobby.thing)).toBe(0);
  });

  it('answers each CONNECT from the thing attached and its attributes of the moment', async () => {
    const zoneClient: PolicyDocument = {
      Statement: [
        {
          Effect: 'Allow',
          Action: 'iot:Connect',
          Resource: `${ARN}:client/\${iot:Connection.Thing.Attributes[zone]}`,
        },
      ],
    };
    const device = await env.issueDevice(lobby.thing, { policy: zoneClient, attachThing: false });
    // no thing attached: the policy variable cannot be resolved
    expect(await connack(device, 'lobby')).toBe(5);
    env.directory.addThing(lobby.thing, attributes);
    env.directory.attachThing(device.certificateId, lobby.thing, true);
    expect(await connack(device, 'lobby')).toBe(0);

    // the thing moves to another zone
    env.directory.addThing(lobby.thing, { ...attributes, zone: 'floor1' });
    expect(await connack(device, 'lobby')).toBe(5);
    expect(await connack(device, 'floor1')).toBe(0);
  });
});
