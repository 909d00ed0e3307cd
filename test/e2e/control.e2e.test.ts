/**
 * The control path of the deployed pipeline: a sensor agent's reading -> control rule -> zone
 * control queue -> zone controller (bundled asset, SQS batches) -> desired state on the actuator's command
 * shadow -> delta to the actuator agent -> actuator driver -> reported state. And the other
 * way round: a desired value the device cannot take is refused and reported.
 */
import { GetThingShadowCommand, UpdateThingShadowCommand } from '@aws-sdk/client-iot-data-plane';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { COMMAND_SHADOW_NAME, type ReportedCommandState } from '../../contracts';
import type { Agent } from '../../device/agent';
import { simulatedActuators } from '../../device/drivers';
import { ACTUATOR, SENSOR } from './helpers/assembly';
import { scriptedTemperature } from './helpers/drivers';
import { type Pipeline, printLogsOnFailure, startPipeline } from './helpers/pipeline';

interface ShadowDocument {
  state?: {
    desired?: Record<string, unknown>;
    reported?: ReportedCommandState;
    delta?: Record<string, unknown>;
  };
  version?: number;
}

let pipeline: Pipeline;
let hvac: Agent;
let climate: Agent;
const actuators = simulatedActuators(['heating', 'ventilation']);
const cold = scriptedTemperature(12, 0);

async function commandShadow(): Promise<ShadowDocument | undefined> {
  try {
    const out = await pipeline
      .clients()
      .data.send(new GetThingShadowCommand({ thingName: ACTUATOR, shadowName: COMMAND_SHADOW_NAME }));
    return JSON.parse(new TextDecoder().decode(out.payload)) as ShadowDocument;
  } catch (err) {
    if ((err as Error).name === 'ResourceNotFoundException') return undefined;
    throw err;
  }
}

beforeAll(async () => {
  pipeline = await startPipeline();
  expect(pipeline.bundles[ACTUATOR]?.drives).toEqual(['heating', 'ventilation']);
  ({ agent: hvac } = await pipeline.startAgent(ACTUATOR, { actuators: [actuators] }));
  ({ agent: climate } = await pipeline.startAgent(SENSOR, { sensors: [cold] }));
  // expect.poll belongs to tests; a hook polls with vi.waitFor
  await vi.waitFor(
    () => expect(hvac.stats().online && climate.stats().online, 'both agents connect').toBe(true),
    { timeout: 30_000, interval: 100 },
  );
  // the actuator agent has fetched its shadow and reported what it does before any command
  await vi.waitFor(
    async () =>
      expect((await commandShadow())?.state?.reported?.mode, 'the actuator reports its first state').toBe(
        'cloud',
      ),
    { timeout: 30_000, interval: 100 },
  );
}, 240_000);

printLogsOnFailure(() => pipeline);

afterAll(async () => {
  await pipeline?.close();
});

describe('commands through the deployed pipeline', () => {
  it('turns heating on through a shadow delta when the sensor reads 12 °C, and the reported state matches with no delta left', async () => {
    expect(actuators.state().heating).toBe('off');
    await climate.sample();
    await expect
      .poll(() => actuators.state().heating === 'on', {
        timeout: 30_000,
        message: 'the actuator driver turns heating on',
      })
      .toBe(true);
    expect(actuators.history).toContainEqual(expect.objectContaining({ kind: 'heating', value: 'on' }));

    const settled = await vi.waitFor(
      async () => {
        const doc = await commandShadow();
        expect(doc?.state, 'the reported state matches desired with no delta').toMatchObject({
          reported: { heating: 'on' },
        });
        expect(doc?.state?.delta, 'the delta left').toBeUndefined();
        return doc!;
      },
      { timeout: 20_000, interval: 100 },
    );
    expect(settled.state?.desired).toMatchObject({ heating: 'on' });
    for (const [key, value] of Object.entries(settled.state?.desired ?? {})) {
      expect(settled.state?.reported?.[key as keyof ReportedCommandState], key).toEqual(value);
    }
    expect(hvac.stats().actuators).toMatchObject({ heating: 'on' });
  }, 90_000);

  it('refuses an out-of-range desired value written with UpdateThingShadow and reports why under reported.rejected', async () => {
    const before = actuators.state().ventilation;
    await pipeline.clients().data.send(
      new UpdateThingShadowCommand({
        thingName: ACTUATOR,
        shadowName: COMMAND_SHADOW_NAME,
        payload: new TextEncoder().encode(JSON.stringify({ state: { desired: { ventilation: 'turbo' } } })),
      }),
    );
    const doc = await vi.waitFor(
      async () => {
        const d = await commandShadow();
        expect(d?.state?.reported?.rejected?.ventilation, 'the refusal is reported').toBeTruthy();
        return d!;
      },
      { timeout: 20_000, interval: 100 },
    );
    expect(doc.state?.reported?.rejected?.ventilation).toMatch(/one of off, low, high/);
    expect(doc.state?.reported?.ventilation).toBe(before);
    expect(actuators.state().ventilation).toBe(before);
    expect(actuators.history.some((h) => h.kind === 'ventilation' && (h.value as string) === 'turbo')).toBe(
      false,
    );
    expect(hvac.stats().rejected.ventilation).toMatch(/one of/);
  }, 90_000);
});
