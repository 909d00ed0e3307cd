import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ConflictException,
  GetThingShadowCommand,
  type GetThingShadowCommandOutput,
  ResourceNotFoundException,
  ServiceUnavailableException,
  UpdateThingShadowCommand,
  type UpdateThingShadowCommandInput,
} from '@aws-sdk/client-iot-data-plane';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from 'vitest';
import {
  type BuildingClock,
  COMMAND_SHADOW_NAME,
  CONTROL_EVENT_KIND,
  ENV,
  METRIC,
  type ZoneControlConfig,
} from '../../contracts';
import { ZoneControlConfigError } from '../../lambda/controller/controller';
import {
  createControllerHandler,
  createControllerHandlerFromEnv,
  iotDataClientConfig,
} from '../../lambda/controller/handler';
import { IotCommandShadows } from '../../lambda/controller/iot-command-shadows';
import { iotDataClient, POLICY, silentLogger, sqsEvent, testMetrics, WEDNESDAY_10_BERLIN } from './fixtures';

const client = iotDataClient();
const iot = mockClient(client);
const NOW = WEDNESDAY_10_BERLIN;

const CONFIG: ZoneControlConfig = {
  building: 'hq',
  policy: POLICY,
  zones: {
    z1: [
      { thing: 'z1-hvac', drives: ['heating', 'ventilation'] },
      { thing: 'z1-lights', drives: ['lighting'] },
    ],
    z2: [{ thing: 'z2-hvac', drives: ['heating'] }],
  },
};

let stdout: MockInstance<typeof process.stdout.write>;

beforeEach(() => {
  iot
    .on(GetThingShadowCommand)
    .rejects(new ResourceNotFoundException({ message: 'No shadow exists', $metadata: {} }));
  iot.on(UpdateThingShadowCommand).resolves({});
  stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
});

afterEach(() => {
  iot.reset();
  stdout.mockRestore();
});

const controller = (clock: BuildingClock = 'wall', now = NOW) =>
  createControllerHandler({
    config: CONFIG,
    shadows: new IotCommandShadows(client, () => 'token-1'),
    logger: silentLogger(),
    metrics: testMetrics(),
    now: () => now,
    clock,
  });

/** A GetThingShadow payload as the SDK returns it: bytes that can also turn into a string. */
function payload(document: unknown): GetThingShadowCommandOutput['payload'] {
  const text = JSON.stringify(document);
  return Object.assign(new TextEncoder().encode(text), { transformToString: () => text });
}

function shadow(thing: string, document: unknown) {
  iot
    .on(GetThingShadowCommand, { thingName: thing, shadowName: COMMAND_SHADOW_NAME })
    .resolves({ payload: payload(document) });
}

function event(readings: Array<Record<string, unknown>>, zone = 'z1', at = NOW, thing = `${zone}-climate`) {
  return {
    kind: CONTROL_EVENT_KIND,
    building: 'hq',
    zone,
    thing,
    readings: readings.map((r, i) => ({ ts: at - 1000 + i, seq: i, ...r })),
  };
}

/** Runs one control queue batch of these events (message ids m0, m1, ...). */
function control(...events: unknown[]) {
  return controller()(sqsEvent(events.map((e) => (typeof e === 'string' ? e : JSON.stringify(e)))));
}

function updates(): Array<{ thing: string; shadowName?: string; document: Record<string, unknown> }> {
  return iot.commandCalls(UpdateThingShadowCommand).map((c) => {
    const input = c.args[0].input as UpdateThingShadowCommandInput;
    return {
      thing: input.thingName ?? '',
      shadowName: input.shadowName,
      document: JSON.parse(new TextDecoder().decode(input.payload as Uint8Array)),
    };
  });
}

function emittedMetrics(): Record<string, unknown> {
  const lines = stdout.mock.calls.map((c) => String(c[0])).filter((l) => l.includes('"_aws"'));
  return Object.assign({}, ...lines.map((l) => JSON.parse(l)));
}

describe('zone controller', () => {
  it('writes no shadow when nothing changes', async () => {
    shadow('z1-hvac', { state: { desired: { heating: 'on', ventilation: 'low' } }, version: 4 });
    shadow('z1-lights', { state: { reported: { lighting: 40 } }, version: 2 });
    await control(event([{ temperature: 20.8, co2: 850, occupancy: 2, light: 400 }]));
    expect(updates()).toEqual([]);
    expect(emittedMetrics()).toMatchObject({ [METRIC.commandsIssued]: 0 });
  });

  it('writes only the changed values to the command shadow with a client token and the version read', async () => {
    shadow('z1-hvac', { state: { desired: { heating: 'off', ventilation: 'low' } }, version: 7 });
    shadow('z1-lights', { state: { desired: { lighting: 40 } }, version: 3 });
    await control(event([{ temperature: 19 }]));
    expect(updates()).toEqual([
      {
        thing: 'z1-hvac',
        shadowName: COMMAND_SHADOW_NAME,
        document: { state: { desired: { heating: 'on' } }, clientToken: 'token-1', version: 7 },
      },
    ]);
    expect(emittedMetrics()).toMatchObject({ [METRIC.commandsIssued]: 1 });
  });

  it('prefers desired over reported as the current state', async () => {
    shadow('z1-hvac', { state: { desired: { heating: 'on' }, reported: { heating: 'off' } }, version: 1 });
    await control(event([{ temperature: 21 }]));
    expect(updates()).toEqual([]);
  });

  it('writes the resting state to an actuator without a shadow yet, without a version', async () => {
    // Above the heating band, below where ventilation starts cooling.
    await controller()(event([{ temperature: 21.8 }]));
    expect(updates()).toEqual([
      {
        thing: 'z1-hvac',
        shadowName: COMMAND_SHADOW_NAME,
        document: { state: { desired: { heating: 'off' } }, clientToken: 'token-1' },
      },
    ]);
  });

  it('controls only the actuators of the event zone', async () => {
    await control(event([{ temperature: 15 }], 'z2'));
    expect(updates().map((u) => u.thing)).toEqual(['z2-hvac']);
  });

  it('leaves an actuator alone while its override runs', async () => {
    shadow('z1-hvac', {
      state: { desired: { heating: 'off', ventilation: 'off', override: { heating: NOW + 60_000 } } },
      metadata: { desired: { override: { heating: { timestamp: Math.floor(NOW / 1000) - 60 } } } },
      version: 5,
    });
    await control(event([{ temperature: 15 }]));
    expect(updates()).toEqual([]);
  });

  it('clears an expired override and resumes control', async () => {
    shadow('z1-hvac', {
      state: { desired: { heating: 'off', ventilation: 'off', override: { heating: NOW - 1 } } },
      version: 5,
    });
    await control(event([{ temperature: 15 }]));
    expect(updates()[0]?.document).toEqual({
      state: { desired: { heating: 'on', override: { heating: null } } },
      clientToken: 'token-1',
      version: 5,
    });
    expect(emittedMetrics()).toMatchObject({ [METRIC.overridesExpired]: 1, [METRIC.commandsIssued]: 1 });
  });

  it('clears an override that outlived maxOverrideMinutes since it was set', async () => {
    const setAtSeconds = Math.floor((NOW - (POLICY.maxOverrideMinutes + 5) * 60_000) / 1000);
    shadow('z1-hvac', {
      state: { desired: { heating: 'on', ventilation: 'off', override: { heating: NOW + 86_400_000 } } },
      metadata: { desired: { override: { heating: { timestamp: setAtSeconds } } } },
      version: 9,
    });
    await control(event([{ temperature: 21 }]));
    expect(updates()[0]?.document).toMatchObject({ state: { desired: { override: { heating: null } } } });
  });

  it('reads again and decides again when the shadow changed in between', async () => {
    iot
      .on(GetThingShadowCommand, { thingName: 'z1-hvac' })
      .resolvesOnce({
        payload: payload({ state: { desired: { heating: 'off' } }, version: 1 }),
      })
      .resolves({
        payload: payload({
          state: { desired: { heating: 'off', override: { heating: NOW + 60_000 } } },
          version: 2,
        }),
      });
    iot
      .on(UpdateThingShadowCommand)
      .rejectsOnce(new ConflictException({ message: 'Version conflict', $metadata: {} }))
      .resolves({});
    await control(event([{ temperature: 15 }]));
    // The operator's override arrived in between: the retry decides to leave heating alone.
    expect(updates()).toHaveLength(1);
    expect(iot.commandCalls(GetThingShadowCommand, { thingName: 'z1-hvac' })).toHaveLength(2);
  });

  it('reports the messages of a zone whose shadow cannot be read as failed, after handling the other actuators', async () => {
    iot
      .on(GetThingShadowCommand, { thingName: 'z1-hvac' })
      .rejects(new ServiceUnavailableException({ message: 'try later', $metadata: {} }));
    await expect(control(event([{ temperature: 15, occupancy: 0 }]))).resolves.toEqual({
      batchItemFailures: [{ itemIdentifier: 'm0' }],
    });
    expect(updates().map((u) => u.thing)).toEqual(['z1-lights']);
  });

  it('drops a malformed message without touching any shadow and without reporting it for a retry', async () => {
    await expect(control({ building: 'hq', readings: 'nope' }, 'not json')).resolves.toEqual({
      batchItemFailures: [],
    });
    expect(iot.calls()).toHaveLength(0);
  });

  it('ignores an event for a zone it does not know', async () => {
    await control(event([{ temperature: 15 }], 'z9'));
    expect(iot.calls()).toHaveLength(0);
  });

  it('ignores the invalid readings of an event and decides from the valid ones', async () => {
    await controller()({
      ...event([{ temperature: 15 }], 'z2'),
      readings: [{ ts: NOW, seq: 1, temperature: 999 }],
    });
    expect(iot.calls()).toHaveLength(0);
  });

  it('fails to start with a config file that does not match the contract, naming the field', () => {
    const dir = mkdtempSync(join(tmpdir(), 'zonectl-controller-'));
    try {
      writeFileSync(join(dir, 'zone-control.json'), '{"building":"hq"}');
      const env = { [ENV.configFile]: 'zone-control.json', LAMBDA_TASK_ROOT: dir };
      expect(() => createControllerHandlerFromEnv(env)).toThrow(ZoneControlConfigError);
      expect(() => createControllerHandlerFromEnv(env)).toThrow(/policy/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fails to start without its config file, naming the path and the fix', () => {
    const env = { [ENV.configFile]: 'zone-control.json', LAMBDA_TASK_ROOT: '/nonexistent-task-root' };
    expect(() => createControllerHandlerFromEnv(env)).toThrow(
      /\/nonexistent-task-root\/zone-control\.json.*redeploy the stack/,
    );
  });

  it('fails to start with a building clock it does not know, naming the choices', () => {
    const dir = mkdtempSync(join(tmpdir(), 'zonectl-controller-'));
    try {
      writeFileSync(join(dir, 'zone-control.json'), JSON.stringify(CONFIG));
      const env = {
        [ENV.configFile]: 'zone-control.json',
        LAMBDA_TASK_ROOT: dir,
        [ENV.iotDataEndpoint]: 'a1b2c3-ats.iot.eu-west-1.amazonaws.com',
        [ENV.buildingClock]: 'sundial',
      };
      expect(() => createControllerHandlerFromEnv(env)).toThrow(
        /building clock 'sundial' is not one of wall, readings/,
      );
      expect(() => createControllerHandlerFromEnv({ ...env, [ENV.buildingClock]: 'readings' })).not.toThrow();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('on the building clock', () => {
    it('leaves readings older than 30 minutes out of the decision (a replay after an outage)', async () => {
      await controller()(event([{ temperature: 15 }], 'z1', NOW - 31 * 60_000));
      expect(updates()).toEqual([]);
    });

    it('leaves readings from a device clock running fast out of the decision', async () => {
      await controller()(event([{ temperature: 15 }], 'z1', NOW + 16 * 60_000));
      expect(updates()).toEqual([]);
    });

    it("on the readings' clock, judges the schedule and overrides at the readings' time", async () => {
      // The function's clock is a week later; the building runs on the readings' time.
      const wall = NOW + 7 * 24 * 3_600_000;
      shadow('z1-hvac', {
        state: { desired: { heating: 'off', ventilation: 'off', override: { heating: NOW + 60_000 } } },
        version: 5,
      });
      await controller('readings', wall)(event([{ temperature: 15 }]));
      expect(updates(), 'the override still runs in building time').toEqual([]);
      await controller('wall', wall)(event([{ temperature: 15 }]));
      expect(updates(), "by the function's clock the readings are stale").toEqual([]);
    });

    it("on the readings' clock, ends an override once the readings pass its end", async () => {
      shadow('z1-hvac', {
        state: { desired: { heating: 'off', ventilation: 'off', override: { heating: NOW + 60_000 } } },
        version: 5,
      });
      await controller(
        'readings',
        NOW + 7 * 24 * 3_600_000,
      )(event([{ temperature: 15 }], 'z1', NOW + 120_000));
      expect(updates()[0]?.document).toMatchObject({
        state: { desired: { heating: 'on', override: { heating: null } } },
      });
    });

    it("never takes the readings' clock more than 15 minutes past the function's", async () => {
      shadow('z1-hvac', {
        state: { desired: { heating: 'off', ventilation: 'off', override: { heating: NOW + 20 * 60_000 } } },
        version: 5,
      });
      // A device clock an hour fast cannot end the override early.
      await controller('readings', NOW)(event([{ temperature: 15 }], 'z1', NOW + 3_600_000));
      expect(updates()).toEqual([]);
    });
  });
  it("talks to the account's own IoT data endpoint that the stack passes, not the SDK's shared default", () => {
    expect(iotDataClientConfig({ [ENV.iotDataEndpoint]: 'a1b2c3-ats.iot.eu-west-1.amazonaws.com' })).toEqual({
      endpoint: 'https://a1b2c3-ats.iot.eu-west-1.amazonaws.com',
    });
  });

  it('leaves the endpoint to AWS_ENDPOINT_URL_IOT_DATA_PLANE when that is set (the local cloud)', () => {
    expect(iotDataClientConfig({ AWS_ENDPOINT_URL_IOT_DATA_PLANE: 'http://127.0.0.1:4600' })).toEqual({});
  });

  it('fails to start without the data endpoint, naming the variable', () => {
    expect(() => iotDataClientConfig({})).toThrow(ENV.iotDataEndpoint);
  });
});

describe('zone controller reusing the shadows it read', () => {
  /** One handler across invocations, as an execution environment keeps it, on a clock the test moves. */
  function reusing(shadowReuseMs?: number) {
    const clock = { now: NOW };
    const handler = createControllerHandler({
      config: CONFIG,
      shadows: new IotCommandShadows(client, () => 'token-1'),
      logger: silentLogger(),
      metrics: testMetrics(),
      now: () => clock.now,
      ...(shadowReuseMs === undefined ? {} : { shadowReuseMs }),
    });
    const run = (...events: unknown[]) => handler(sqsEvent(events.map((e) => JSON.stringify(e))));
    return { clock, run };
  }
  const reads = (thing: string) => iot.commandCalls(GetThingShadowCommand, { thingName: thing }).length;

  it('decides without reading again within a second when nothing is written, and reads again after', async () => {
    shadow('z2-hvac', { state: { desired: { heating: 'on' } }, version: 3 });
    const { clock, run } = reusing();
    await run(event([{ temperature: 19 }], 'z2'));
    clock.now += 400;
    await run(event([{ temperature: 19.2 }], 'z2', clock.now));
    clock.now += 400;
    await run(event([{ temperature: 19.1 }], 'z2', clock.now));
    expect(reads('z2-hvac')).toBe(1);
    clock.now += 300;
    await run(event([{ temperature: 19 }], 'z2', clock.now));
    expect(reads('z2-hvac')).toBe(2);
    expect(updates()).toEqual([]);
  });

  it('reads again before it writes, and decides on what it read: an override set meanwhile is kept', async () => {
    shadow('z2-hvac', { state: { desired: { heating: 'on' } }, version: 3 });
    const { clock, run } = reusing();
    await run(event([{ temperature: 19 }], 'z2'));
    // An operator keeps heating on with an override; the controller's copy has no override.
    shadow('z2-hvac', {
      state: { desired: { heating: 'on', override: { heating: NOW + 3_600_000 } } },
      metadata: { desired: { override: { heating: { timestamp: Math.floor(NOW / 1000) } } } },
      version: 4,
    });
    clock.now += 100;
    // Warm: on the copy the controller would turn heating off; on the fresh read it may not.
    await run(event([{ temperature: 24 }], 'z2', clock.now));
    expect(reads('z2-hvac')).toBe(2);
    expect(updates()).toEqual([]);
  });

  it('forgets its copy of a shadow it wrote, so the next decision starts from the write', async () => {
    shadow('z2-hvac', { state: { desired: { heating: 'off' } }, version: 7 });
    const { clock, run } = reusing();
    await run(event([{ temperature: 15 }], 'z2'));
    expect(updates().map((u) => u.document)).toEqual([
      { state: { desired: { heating: 'on' } }, clientToken: 'token-1', version: 7 },
    ]);
    shadow('z2-hvac', { state: { desired: { heating: 'on' } }, version: 8 });
    clock.now += 100;
    // Warm now: a copy from before the write would say heating is already off.
    await run(event([{ temperature: 24 }], 'z2', clock.now));
    expect(updates().map((u) => u.document)[1]).toEqual({
      state: { desired: { heating: 'off' } },
      clientToken: 'token-1',
      version: 8,
    });
  });

  it('reads every shadow for every decision with shadowReuseMs 0', async () => {
    shadow('z2-hvac', { state: { desired: { heating: 'on' } }, version: 3 });
    const { run } = reusing(0);
    await run(event([{ temperature: 19 }], 'z2'));
    await run(event([{ temperature: 19 }], 'z2'));
    expect(reads('z2-hvac')).toBe(2);
  });
});

describe('zone controller on control queue batches', () => {
  it('decides once per zone from the latest readings of all its messages', async () => {
    shadow('z1-hvac', { state: { desired: { heating: 'off', ventilation: 'off' } }, version: 3 });
    shadow('z1-lights', { state: { desired: { lighting: 0 } }, version: 2 });
    const older = { ...event([]), readings: [{ ts: NOW - 5000, seq: 1, temperature: 15 }] };
    const newer = { ...event([]), readings: [{ ts: NOW - 1000, seq: 2, temperature: 21.8 }] };
    await expect(control(newer, older)).resolves.toEqual({ batchItemFailures: [] });
    // one read per actuator for the two messages, and the newer 21.8 degC decides: all stays off
    expect(iot.commandCalls(GetThingShadowCommand)).toHaveLength(2);
    expect(updates()).toEqual([]);
    expect(emittedMetrics()).toMatchObject({ [METRIC.controlEvents]: 2, [METRIC.controlDecisions]: 1 });
  });

  it('combines the measures of different sensors of a zone into one decision', async () => {
    shadow('z1-hvac', { state: { desired: { heating: 'off', ventilation: 'off' } }, version: 3 });
    shadow('z1-lights', { state: { desired: { lighting: 0 } }, version: 2 });
    await control(
      event([{ temperature: 15 }], 'z1', NOW, 'z1-climate'),
      event([{ co2: 1400 }], 'z1', NOW, 'z1-co2'),
    );
    expect(updates()).toEqual([
      expect.objectContaining({
        thing: 'z1-hvac',
        document: expect.objectContaining({ state: { desired: { heating: 'on', ventilation: 'high' } } }),
      }),
    ]);
  });

  it('decides each zone of a batch, and reports only the messages of the zone that failed', async () => {
    iot
      .on(GetThingShadowCommand, { thingName: 'z2-hvac' })
      .rejects(new ServiceUnavailableException({ message: 'try later', $metadata: {} }));
    const response = await control(
      event([{ temperature: 15 }], 'z1'),
      event([{ temperature: 15 }], 'z2'),
      event([{ temperature: 14 }], 'z1'),
      event([{ temperature: 14 }], 'z2'),
    );
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'm1' }, { itemIdentifier: 'm3' }] });
    expect(updates().map((u) => u.thing)).toEqual(['z1-hvac']);
    expect(emittedMetrics()).toMatchObject({ [METRIC.controlEvents]: 4, [METRIC.controlDecisions]: 1 });
  });

  it('decides a control event invoked directly (not an SQS batch), and throws a failure for a retry', async () => {
    await expect(controller()(event([{ temperature: 15 }], 'z2'))).resolves.toMatchObject({
      updatedThings: ['z2-hvac'],
    });
    iot
      .on(GetThingShadowCommand, { thingName: 'z2-hvac' })
      .rejects(new ServiceUnavailableException({ message: 'try later', $metadata: {} }));
    await expect(controller()(event([{ temperature: 15 }], 'z2'))).rejects.toBeInstanceOf(
      ServiceUnavailableException,
    );
    await expect(controller()({ building: 'hq', readings: 'nope' })).resolves.toBeUndefined();
  });
});
