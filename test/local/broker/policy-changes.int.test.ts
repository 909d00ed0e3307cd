import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { telemetryTopic } from '../../../contracts';
import type { PolicyDocument } from '../../../local/iot/types';
import { type LocalIot, startLocalIot } from '../../helpers/local-iot';
import { connectDevice, disconnectAll } from '../../helpers/mqtt-device';

/**
 * The broker keeps each session's policy answers; a registry change must still apply to the very
 * next check of a live session, as it did when every check read the registry afresh.
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
