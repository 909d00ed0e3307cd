import { iotshadow, mqtt } from 'aws-iot-device-sdk-v2';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { COMMAND_SHADOW_NAME, shadowTopicPrefix } from '../../../contracts';
import { createShadowService, type ShadowService } from '../../../local/shadow';
import { type LocalIot, startLocalIot } from '../../helpers/local-iot';
import { connectDevice, disconnectAll, type TestDevice } from '../../helpers/mqtt-device';

const thingName = 'lobby-h1';
const shadowName = COMMAND_SHADOW_NAME;
const prefix = shadowTopicPrefix(thingName, shadowName);
const QOS = mqtt.QoS.AtLeastOnce;

/**
 * Subscribes with a shadow client method: `subscribed` resolves when the broker acknowledged the
 * subscription (SUBACK), `message` with the next message it delivers.
 */
function once<T>(subscribe: (handler: (error?: unknown, response?: T) => void) => Promise<unknown>): {
  readonly subscribed: Promise<unknown>;
  readonly message: Promise<T>;
} {
  let subscribed: Promise<unknown> = Promise.resolve();
  const message = new Promise<T>((resolve, reject) => {
    let done = false;
    subscribed = subscribe((error, response) => {
      if (done) return;
      done = true;
      if (error) reject(error);
      else resolve(response as T);
    });
    subscribed.catch(reject);
  });
  return { subscribed, message };
}

describe('shadow service over MQTT (device SDK shadow client)', () => {
  let env: LocalIot;
  let service: ShadowService;
  let device: TestDevice;
  let shadow: iotshadow.IotShadowClient;

  beforeEach(async () => {
    env = await startLocalIot();
    service = await createShadowService({
      bus: env.broker,
      directory: env.directory,
      stateDir: env.stateDir,
      logger: env.logger,
    });
    const id = await env.issueDevice(thingName, {
      attributes: { building: 'hq', zone: 'lobby', kind: 'actuator' },
    });
    device = await connectDevice({
      port: env.broker.port,
      caFile: env.caFile,
      certFile: id.certFile,
      keyFile: id.keyFile,
      clientId: thingName,
    });
    shadow = new iotshadow.IotShadowClient(device.connection);
  });
  afterEach(async () => {
    await disconnectAll();
    await service.close();
    await env.close();
  });

  const ask = { thingName, shadowName };

  /** Subscribes to accepted and rejected, publishes the update, resolves with whichever comes. */
  async function updateShadow(
    request: Omit<iotshadow.model.UpdateNamedShadowRequest, 'thingName' | 'shadowName'>,
  ) {
    const accepted = once<iotshadow.model.UpdateShadowResponse>((h) =>
      shadow.subscribeToUpdateNamedShadowAccepted(ask, QOS, h),
    );
    const rejected = once<iotshadow.model.ErrorResponse>((h) =>
      shadow.subscribeToUpdateNamedShadowRejected(ask, QOS, h),
    );
    await Promise.all([accepted.subscribed, rejected.subscribed]);
    await shadow.publishUpdateNamedShadow({ ...ask, ...request }, QOS);
    return Promise.race([
      accepted.message.then((a) => ({ accepted: a })),
      rejected.message.then((r) => ({ rejected: r })),
    ]);
  }

  it('rejects a get of a shadow that does not exist yet with 404', async () => {
    const rejected = once<iotshadow.model.ErrorResponse>((h) =>
      shadow.subscribeToGetNamedShadowRejected(ask, QOS, h),
    );
    await rejected.subscribed;
    await shadow.publishGetNamedShadow({ ...ask, clientToken: 'g1' }, QOS);
    expect(await rejected.message).toMatchObject({
      code: 404,
      message: `No shadow exists with name: '${shadowName}'`,
      clientToken: 'g1',
    });
  });

  it('accepts a reported update, then sends the delta when the cloud changes desired', async () => {
    const result = await updateShadow({ state: { reported: { heating: 'off' } }, clientToken: 'u1' });
    expect(result).toMatchObject({
      accepted: { version: 1, clientToken: 'u1', state: { reported: { heating: 'off' } } },
    });

    const delta = once<iotshadow.model.ShadowDeltaUpdatedEvent>((h) =>
      shadow.subscribeToNamedShadowDeltaUpdatedEvents(ask, QOS, h),
    );
    const documents = once<iotshadow.model.ShadowUpdatedEvent>((h) =>
      shadow.subscribeToNamedShadowUpdatedEvents(ask, QOS, h),
    );
    await Promise.all([delta.subscribed, documents.subscribed]);
    await service.api.update(thingName, shadowName, { state: { desired: { heating: 'on' } } });
    expect(await delta.message).toMatchObject({ state: { heating: 'on' }, version: 2 });
    expect(await documents.message).toMatchObject({
      previous: { state: { reported: { heating: 'off' } }, version: 1 },
      current: { state: { desired: { heating: 'on' }, reported: { heating: 'off' } }, version: 2 },
    });

    const got = once<iotshadow.model.GetShadowResponse>((h) =>
      shadow.subscribeToGetNamedShadowAccepted(ask, QOS, h),
    );
    await got.subscribed;
    await shadow.publishGetNamedShadow(ask, QOS);
    expect(await got.message).toMatchObject({
      state: { desired: { heating: 'on' }, reported: { heating: 'off' }, delta: { heating: 'on' } },
      version: 2,
    });
  });

  it('rejects an update with a stale version with 409 Version conflict', async () => {
    await updateShadow({ state: { reported: { heating: 'off' } } });
    const result = await updateShadow({
      state: { reported: { heating: 'on' } },
      version: 7,
      clientToken: 'v7',
    });
    expect(result).toEqual({
      rejected: expect.objectContaining({ code: 409, message: 'Version conflict', clientToken: 'v7' }),
    });
  });

  it('deletes a reported key set to null', async () => {
    await updateShadow({ state: { reported: { heating: 'off', lighting: 40 } } });
    await updateShadow({ state: { reported: { lighting: null } } as never });
    expect(service.api.get(thingName, shadowName)).toMatchObject({
      state: { reported: { heating: 'off' } },
      version: 2,
    });
    expect(service.api.get(thingName, shadowName)).not.toHaveProperty('state.reported.lighting');
  });

  it('rejects invalid JSON on the update topic with 400', async () => {
    const rejected = once<iotshadow.model.ErrorResponse>((h) =>
      shadow.subscribeToUpdateNamedShadowRejected(ask, QOS, h),
    );
    await rejected.subscribed;
    await device.publish(`${prefix}/update`, '{"state": {', QOS);
    expect(await rejected.message).toMatchObject({ code: 400, message: 'Invalid JSON' });
    expect(env.logLines('rejected update', prefix, `client '${thingName}'`, '400 Invalid JSON')).toHaveLength(
      1,
    );
  });

  it('keeps shadows across a restart of the service', async () => {
    await updateShadow({ state: { reported: { heating: 'eco' } } });
    await service.close();
    service = await createShadowService({
      bus: env.broker,
      directory: env.directory,
      stateDir: env.stateDir,
      logger: env.logger,
    });
    expect(service.api.get(thingName, shadowName)).toMatchObject({
      state: { reported: { heating: 'eco' } },
      version: 1,
    });
  });

  it('disconnects a device that subscribes to another thing’s shadow responses', async () => {
    device.subscribe(`${shadowTopicPrefix('lobby-h2', shadowName)}/get/accepted`).catch(() => {});
    await device.interrupted;
    expect(env.logLines('denied iot:Subscribe', 'lobby-h2', `client '${thingName}'`)).toHaveLength(1);
  });
});
