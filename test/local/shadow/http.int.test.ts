import {
  ConflictException,
  DeleteThingShadowCommand,
  GetThingShadowCommand,
  InvalidRequestException,
  IoTDataPlaneClient,
  ListNamedShadowsForThingCommand,
  PublishCommand,
  RequestEntityTooLargeException,
  ResourceNotFoundException,
  UpdateThingShadowCommand,
} from '@aws-sdk/client-iot-data-plane';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { COMMAND_SHADOW_NAME } from '../../../contracts';
import type { BrokerMessage } from '../../../local/broker';
import { createGatewayService, type GatewayService } from '../../../local/gateway';
import { createShadowService, type ShadowService } from '../../../local/shadow';
import { type LocalIot, startLocalIot } from '../../helpers/local-iot';

/** How long the broker may take to deliver, log or disconnect. */
const POLL = { timeout: 5_000 };

const thingName = 'lobby-h1';
const decode = (payload: Uint8Array | undefined) => JSON.parse(Buffer.from(payload ?? []).toString('utf8'));
const encode = (doc: object) => Buffer.from(JSON.stringify(doc));

describe('shadow service over the iot-data HTTP API (AWS SDK v3 through the gateway)', () => {
  let env: LocalIot;
  let service: ShadowService;
  let gateway: GatewayService;
  let client: IoTDataPlaneClient;

  beforeEach(async () => {
    env = await startLocalIot();
    env.directory.addThing(thingName, {});
    service = await createShadowService({
      bus: env.broker,
      directory: env.directory,
      stateDir: env.stateDir,
      logger: env.logger,
    });
    gateway = await createGatewayService({ port: 0, routes: [service.route], logger: env.logger });
    client = new IoTDataPlaneClient({
      endpoint: gateway.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local-secret' },
      maxAttempts: 1,
    });
  });
  afterEach(async () => {
    client.destroy();
    await gateway.close();
    await service.close();
    await env.close();
  });

  it('updates, reads and deletes a named shadow', async () => {
    const updated = await client.send(
      new UpdateThingShadowCommand({
        thingName,
        shadowName: COMMAND_SHADOW_NAME,
        payload: encode({ state: { desired: { heating: 'on' } }, clientToken: 'h1' }),
      }),
    );
    expect(decode(updated.payload)).toMatchObject({
      state: { desired: { heating: 'on' } },
      version: 1,
      clientToken: 'h1',
    });
    const got = await client.send(new GetThingShadowCommand({ thingName, shadowName: COMMAND_SHADOW_NAME }));
    expect(decode(got.payload)).toMatchObject({
      state: { desired: { heating: 'on' }, delta: { heating: 'on' } },
      version: 1,
    });
    const deleted = await client.send(
      new DeleteThingShadowCommand({ thingName, shadowName: COMMAND_SHADOW_NAME }),
    );
    expect(decode(deleted.payload)).toMatchObject({ version: 1 });
    await expect(
      client.send(new GetThingShadowCommand({ thingName, shadowName: COMMAND_SHADOW_NAME })),
    ).rejects.toThrow(ResourceNotFoundException);
  });

  it('announces an HTTP update on the MQTT accepted topic', async () => {
    const seen: BrokerMessage[] = [];
    env.broker.subscribe(`$aws/things/${thingName}/shadow/update/accepted`, (m) => {
      seen.push(m);
    });
    await client.send(
      new UpdateThingShadowCommand({ thingName, payload: encode({ state: { reported: { a: 1 } } }) }),
    );
    await expect.poll(() => seen.length, POLL).toBe(1);
    expect(JSON.parse(seen[0]!.payload.toString())).toMatchObject({
      state: { reported: { a: 1 } },
      version: 1,
    });
  });

  it('fails with ResourceNotFoundException for a thing that is not in the registry', async () => {
    const err = await client
      .send(new GetThingShadowCommand({ thingName: 'nobody' }))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ResourceNotFoundException);
    expect((err as Error).message).toBe('Thing not found');
  });

  it('fails with ConflictException on a stale version', async () => {
    await client.send(
      new UpdateThingShadowCommand({ thingName, payload: encode({ state: { reported: { a: 1 } } }) }),
    );
    await expect(
      client.send(
        new UpdateThingShadowCommand({
          thingName,
          payload: encode({ state: { reported: { a: 2 } }, version: 5 }),
        }),
      ),
    ).rejects.toThrow(ConflictException);
  });

  it('fails with InvalidRequestException on invalid JSON', async () => {
    const err = await client
      .send(new UpdateThingShadowCommand({ thingName, payload: Buffer.from('{nope') }))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidRequestException);
    expect((err as Error).message).toBe('Invalid JSON');
  });

  it('fails with RequestEntityTooLargeException above 8 KB of state', async () => {
    await expect(
      client.send(
        new UpdateThingShadowCommand({
          thingName,
          payload: encode({ state: { reported: { big: 'x'.repeat(9000) } } }),
        }),
      ),
    ).rejects.toThrow(RequestEntityTooLargeException);
  });

  it('lists named shadows page by page, never the classic shadow', async () => {
    await client.send(
      new UpdateThingShadowCommand({ thingName, payload: encode({ state: { reported: { a: 1 } } }) }),
    );
    for (const name of ['c', 'a', 'b']) {
      await client.send(
        new UpdateThingShadowCommand({
          thingName,
          shadowName: name,
          payload: encode({ state: { reported: { a: 1 } } }),
        }),
      );
    }
    const first = await client.send(new ListNamedShadowsForThingCommand({ thingName, pageSize: 2 }));
    expect(first.results).toEqual(['a', 'b']);
    const second = await client.send(
      new ListNamedShadowsForThingCommand({ thingName, pageSize: 2, nextToken: first.nextToken }),
    );
    expect(second.results).toEqual(['c']);
    expect(second.nextToken).toBeUndefined();
  });

  it('publishes to a topic as the service, retained when asked', async () => {
    const seen: BrokerMessage[] = [];
    env.broker.subscribe('site/+/status', (m) => {
      seen.push(m);
    });
    await client.send(
      new PublishCommand({ topic: 'site/hq/status', qos: 1, retain: true, payload: Buffer.from('open') }),
    );
    await expect.poll(() => seen.length, POLL).toBe(1);
    expect(seen[0]).toMatchObject({ topic: 'site/hq/status', qos: 1, retain: true });
    expect(seen[0]?.payload.toString()).toBe('open');
    expect(seen[0]?.clientId).toBeUndefined();
  });
});
