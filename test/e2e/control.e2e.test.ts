/**
 * The control path of the deployed pipeline: a sensor agent's reading -> control rule -> zone
 * controller (bundled asset, asynchronous invoke) -> desired state on the actuator's command
 * shadow -> delta to the actuator agent -> actuator driver -> reported state. And the other
 * way round: a desired value the device cannot take is refused and reported.
 */
import { GetThingShadowCommand, UpdateThingShadowCommand } from '@aws-sdk/client-iot-data-plane';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMAND_SHADOW_NAME, type ReportedCommandState } from '../../contracts';
import type { Agent } from '../../device/agent';
import { simulatedActuators } from '../../device/drivers';
import { waitFor } from '../helpers/wait';
import { ACTUATOR, SENSOR } from './helpers/assembly';
import { scriptedTemperature } from './helpers/drivers';
import { eventually, type Pipeline, printLogsOnFailure, startPipeline } from './helpers/pipeline';

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
  await waitFor(() => hvac.stats().online && climate.stats().online, 30_000, 'both agents connect');
  // the actuator agent has fetched its shadow and reported what it does before any command
  await eventually(
    async () => ((await commandShadow())?.state?.reported?.mode === 'cloud' ? true : undefined),
    30_000,
    'the actuator reports its first state',
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
    await waitFor(() => actuators.state().heating === 'on', 30_000, 'the actuator driver turns heating on');
    expect(actuators.history).toContainEqual(expect.objectContaining({ kind: 'heating', value: 'on' }));

    const settled = await eventually(
      async () => {
        const doc = await commandShadow();
        return doc?.state?.reported?.heating === 'on' && doc.state.delta === undefined ? doc : undefined;
      },
      20_000,
      'the reported state matches desired with no delta',
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
    const doc = await eventually(
      async () => {
        const d = await commandShadow();
        return d?.state?.reported?.rejected?.ventilation ? d : undefined;
      },
      20_000,
      'the refusal is reported',
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
