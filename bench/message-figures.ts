/**
 * Figures of stage 2: messages per 1,000 samples under the edge policy, and WriteRecords calls
 * and write units of the ingest batching. Pure: no network, no timers.
 */
import {
  type BuildingConfig,
  devicesOf,
  MAX_READINGS_PER_MESSAGE,
  parseBuildingConfigText,
} from '../contracts';
import { DEFAULT_EDGE_POLICY, edgePolicyFor } from '../device/edge-policy';
import type { ReadingRecord } from '../lambda/shared/telemetry-store';
import { sensorCombinations, simulatePublishing } from './edge';
import { writeCost } from './metering';
import type { Metric } from './report';
import { project, zoneSeries } from './series';

export const SAMPLES_PER_COMBINATION = 1_000;
/** Fixed start so payload sizes (digits of ts) do not change between runs. */
const START_MS = Date.UTC(2026, 10, 2, 8, 0, 0);

export function edgeMetrics(buildingJson: string): Metric[] {
  const combos = sensorCombinations(buildingJson);
  const config = parseBuildingConfigText(buildingJson);
  const series = zoneSeries({
    samples: SAMPLES_PER_COMBINATION,
    intervalMs: DEFAULT_EDGE_POLICY.sampleIntervalMs,
    startMs: START_MS,
    seed: 42,
  });
  const metrics: Metric[] = [];
  const hours = (SAMPLES_PER_COMBINATION * DEFAULT_EDGE_POLICY.sampleIntervalMs) / 3_600_000;
  let totalMessages = 0;
  let totalSamples = 0;
  let totalBilled = 0;
  combos.forEach((combo, index) => {
    const sim = simulatePublishing(series, combo.kinds, DEFAULT_EDGE_POLICY);
    totalMessages += sim.messages;
    totalSamples += sim.samples;
    totalBilled += sim.billedMessages;
    const name = combo.kinds.join('+');
    metrics.push({
      id: `edge.messagesPer1000.${name}`,
      metric: `messages per 1,000 samples: ${name}`,
      value: (sim.messages * 1000) / sim.samples,
      unit: 'messages',
      note:
        `${sim.readings} of ${sim.samples} samples kept, ${sim.urgentFlushes} urgent sends, ` +
        `${Math.round(sim.payloadBytes / sim.messages)} B/message avg; ${combo.devices} device(s) like ${combo.things[0]}`,
    });
    if (index === 0) {
      metrics.push({
        id: 'edge.co2Crossings',
        metric: 'CO2 crossings of 1000 ppm in the series',
        value: crossings(
          series.map((s) => s.values.co2),
          1000,
        ),
        unit: 'crossings',
        note: `series: ${SAMPLES_PER_COMBINATION} samples every ${DEFAULT_EDGE_POLICY.sampleIntervalMs / 1000} s (${hours.toFixed(1)} h), ${crossings(
          series.map((s) => s.values.occupancy),
          0.5,
        )} occupied/empty changes`,
      });
    }
  });
  metrics.push(
    {
      id: 'edge.messagesPer1000',
      metric: 'messages per 1,000 samples: all kinds',
      value: (totalMessages * 1000) / totalSamples,
      unit: 'messages',
      note: `DEFAULT_EDGE_POLICY over ${combos.length} sensor kind sets of building.json; baseline is 1,000 (one message per sample)`,
    },
    {
      id: 'edge.messageRatio',
      metric: 'messages vs one message per sample',
      value: totalMessages / totalSamples,
      unit: 'ratio',
      note: `${(totalSamples / totalMessages).toFixed(1)}x fewer messages; billed (5 KB steps): ${totalBilled} for ${totalSamples} samples`,
    },
    buildingPolicyMetric(config, series, combos),
  );
  return metrics;
}

/** The same series under the policy the agent actually runs with the building's safety limits. */
function buildingPolicyMetric(
  config: BuildingConfig,
  series: ReturnType<typeof zoneSeries>,
  combos: ReturnType<typeof sensorCombinations>,
): Metric {
  const c = config.comfort;
  const options = edgePolicyFor({
    co2Limit: c.co2Limit,
    co2HighLimit: c.co2HighLimit,
    minTemperature: c.unoccupiedSetpoint,
  });
  let messages = 0;
  let samples = 0;
  for (const combo of combos) {
    const sim = simulatePublishing(series, combo.kinds, options);
    messages += sim.messages;
    samples += sim.samples;
  }
  return {
    id: 'edge.messagesPer1000.buildingPolicy',
    metric: "messages per 1,000 samples: building's policy",
    value: (messages * 1000) / samples,
    unit: 'messages',
    note: `edgePolicyFor(building safety): CO2 thresholds ${c.co2Limit}/${c.co2HighLimit} ppm, temperature ${c.unoccupiedSetpoint} degC`,
  };
}

function crossings(values: readonly number[], level: number): number {
  let count = 0;
  for (let i = 1; i < values.length; i++) {
    if ((values[i - 1] as number) <= level !== (values[i] as number) <= level) count++;
  }
  return count;
}

export const METERED_READINGS = 10_000;

/**
 * N readings from every sensing device of the building, interleaved as they reach the ingest
 * queue, written as the ingest Lambda writes them (calls of up to 100 records across message
 * boundaries) versus one record per call and one call per device message.
 */
export function meteringMetrics(buildingJson: string, n = METERED_READINGS): Metric[] {
  const config = parseBuildingConfigText(buildingJson);
  const devices = devicesOf(config).filter((d) => d.senses.length > 0);
  const perDevice = Math.ceil(n / devices.length);
  const streams = devices.map((device, i) => ({
    device,
    samples: zoneSeries({
      samples: perDevice,
      intervalMs: DEFAULT_EDGE_POLICY.sampleIntervalMs,
      startMs: START_MS,
      seed: 100 + i,
    }),
  }));
  const records: ReadingRecord[] = [];
  for (let i = 0; i < perDevice && records.length < n; i++) {
    for (const { device, samples } of streams) {
      if (records.length >= n) break;
      const sample = samples[i];
      if (!sample) continue;
      records.push({
        building: device.building,
        zone: device.zone,
        thing: device.thing,
        reading: { ts: sample.at, seq: i, ...project(sample.values, device.senses) },
      });
    }
  }
  const batched = writeCost(records, MAX_READINGS_PER_MESSAGE);
  const single = writeCost(records, 1);
  const perMessage = writeCost(records, DEFAULT_EDGE_POLICY.batchSize);
  const avg = Math.round(single.bytes / records.length);
  return [
    {
      id: 'timestream.requests.batched',
      metric: `WriteRecords calls for ${n.toLocaleString('en-US')} readings, batches of 100`,
      value: batched.requests,
      unit: 'calls',
      note: `one record per call: ${single.requests.toLocaleString('en-US')} calls`,
    },
    {
      id: 'timestream.writeUnits.batched',
      metric: 'Timestream write units, batches of 100',
      value: batched.writeUnits,
      unit: '1 KiB writes',
      note: `${avg} B per record (Timestream write sizes); ceil(request bytes / 1 KiB) per call`,
    },
    {
      id: 'timestream.writeUnits.single',
      metric: 'Timestream write units, one record per call',
      value: single.writeUnits,
      unit: '1 KiB writes',
      note: `one call per ${DEFAULT_EDGE_POLICY.batchSize}-reading message would be ${perMessage.writeUnits.toLocaleString('en-US')}`,
    },
    {
      id: 'timestream.writeUnitRatio',
      metric: 'write units, batched vs one record per call',
      value: batched.writeUnits / single.writeUnits,
      unit: 'ratio',
      note: `${(single.writeUnits / batched.writeUnits).toFixed(1)}x fewer billed writes with batching`,
    },
  ];
}
