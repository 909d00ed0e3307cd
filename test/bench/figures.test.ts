import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { simulatePublishing } from '../../bench/edge';
import { recordWriteBytes, writeCost } from '../../bench/metering';
import { formatTable, median } from '../../bench/report';
import { type ZoneSample, zoneSeries } from '../../bench/series';
import { endToEndMetrics } from '../../bench/throughput';
import { DEFAULT_EDGE_POLICY, type EdgePolicyOptions } from '../../device/edge-policy';
import type { ReadingRecord } from '../../lambda/shared/telemetry-store';
import { toTimestreamRecord } from '../../lambda/shared/timestream-store';

const T0 = Date.UTC(2026, 10, 2, 8);
const S = DEFAULT_EDGE_POLICY.sampleIntervalMs;

/** Samples whose temperature moves by a full degree each time, so every one is kept. */
function rising(n: number, extra: Partial<ZoneSample['values']> = {}): ZoneSample[] {
  return Array.from({ length: n }, (_, i) => ({
    at: T0 + i * S,
    values: { temperature: 10 + i, humidity: 40, occupancy: 0, co2: 500, light: 100, ...extra },
  }));
}

const neverLate: EdgePolicyOptions = { ...DEFAULT_EDGE_POLICY, maxBatchDelayMs: 3_600_000 };

describe('edge publishing simulation', () => {
  it('batches kept readings into messages of at most batchSize', () => {
    const sim = simulatePublishing(rising(25), ['temperature'], neverLate);
    // the first reading goes out alone, then 10 + 10, then the last 4 at the end
    expect(sim.published.map((m) => m.length)).toEqual([1, 10, 10, 4]);
    expect(sim.readings).toBe(25);
  });

  it('publishes at once when occupancy changes', () => {
    // two people come in at the fourth sample and stay
    const samples = rising(5).map((s, i) => (i >= 3 ? { ...s, values: { ...s.values, occupancy: 2 } } : s));
    const sim = simulatePublishing(samples, ['temperature', 'occupancy'], neverLate);
    expect(sim.published.map((m) => m.length)).toEqual([1, 3, 1]);
    expect(sim.urgentFlushes).toBe(2);
  });

  it('keeps nothing but heartbeats when the values do not move', () => {
    const flat = rising(100).map((s) => ({ ...s, values: { ...s.values, temperature: 21 } }));
    const sim = simulatePublishing(flat, ['temperature'], DEFAULT_EDGE_POLICY);
    // first sample, then one heartbeat every 5 minutes (30 samples)
    expect(sim.readings).toBe(4);
  });

  it('numbers readings in order without gaps', () => {
    const sim = simulatePublishing(rising(25), ['temperature'], neverLate);
    expect(sim.published.flat().map((r) => r.seq)).toEqual(Array.from({ length: 25 }, (_, i) => i));
  });
});

describe('zone series', () => {
  it('gives the same samples for the same seed', () => {
    const o = { samples: 50, intervalMs: S, startMs: T0, seed: 3 };
    expect(zoneSeries(o)).toEqual(zoneSeries(o));
  });

  it('crosses 1000 ppm CO2 during the meeting and stays within the contract ranges', () => {
    const series = zoneSeries({ samples: 1000, intervalMs: S, startMs: T0, seed: 42 });
    const co2 = series.map((s) => s.values.co2);
    expect(Math.min(...co2)).toBeLessThan(1000);
    expect(Math.max(...co2)).toBeGreaterThan(1000);
    expect(series.every((s) => Number.isInteger(s.values.occupancy))).toBe(true);
  });
});

describe('Timestream write metering', () => {
  const record = (seq: number, reading: Partial<ReadingRecord['reading']>): ReadingRecord => ({
    building: 'hq',
    zone: 'lobby',
    thing: 't1',
    reading: { ts: T0 + seq, seq, ...reading },
  });

  it("counts a record's timestamp, dimensions, measure name and each measure's name and value", () => {
    // 8 + (8+2) + (4+5) + (5+2) + 'reading' 7 + ('temperature' 11 + 8) + ('seq' 3 + 8)
    expect(recordWriteBytes(toTimestreamRecord(record(1, { temperature: 21 })))).toBe(71);
  });

  it('bills 100 small records as 9 writes in one call and 100 writes one by one', () => {
    const records = Array.from({ length: 100 }, (_, i) => record(i, { temperature: 21, humidity: 40 }));
    expect(recordWriteBytes(toTimestreamRecord(records[0]!))).toBe(87);
    expect(writeCost(records, 100)).toMatchObject({ requests: 1, writeUnits: 9 });
    expect(writeCost(records, 1)).toMatchObject({ requests: 100, writeUnits: 100 });
  });

  it('refuses a call size above the WriteRecords limit', () => {
    expect(() => writeCost([], 101)).toThrow(/1-100/);
  });
});

describe('report', () => {
  it('takes the median of odd and even lists', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
  });

  it('prints one aligned row per metric', () => {
    const text = formatTable([
      { id: 'a', metric: 'short', value: 1234.5, unit: 'MiB', note: 'n' },
      { id: 'b', metric: 'a longer name', value: 0.12345, unit: 'x', note: '' },
    ]);
    const lines = text.split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[2]).toContain('1,235');
    expect(lines[3]).toContain('0.123');
  });
});

describe('end to end through the local cloud', () => {
  it('delivers every published reading message to the queue through the ingest rule', async () => {
    const metrics = await endToEndMetrics({
      messages: 20,
      inFlight: 4,
      buildingJson: readFileSync('building.json', 'utf8'),
    });
    const rate = metrics.find((m) => m.id === 'e2e.messagesPerSecond');
    expect(rate?.value).toBeGreaterThan(0);
    expect(metrics.find((m) => m.id === 'e2e.latencyMedianMs')?.note).toContain('over 20 messages');
  });
});
