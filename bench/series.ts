/**
 * Realistic, repeatable sensor series for one zone: slow drift plus sensor noise, occupancy that
 * changes now and then (including one long meeting), CO2 that follows the people in the room
 * and crosses the policy's CO2 threshold during the meeting, and light that follows daylight
 * and switches with occupancy. Seeded, so every run sees the same numbers.
 */
import { MEASURES, SENSOR_KINDS, type SensorKind } from '../contracts';
import type { SensorValues } from '../device/drivers';
import { seededRandom } from '../sim/random';

export { seededRandom };

/** Normal noise with standard deviation `sigma` (Box-Muller). */
function gaussian(random: () => number, sigma: number): number {
  const u = Math.max(random(), 1e-12);
  const v = random();
  return sigma * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

export interface ZoneSample {
  readonly at: number;
  readonly values: Required<SensorValues>;
}

export interface ZoneSeriesOptions {
  readonly samples: number;
  readonly intervalMs: number;
  readonly startMs: number;
  readonly seed: number;
  /** Samples [from, to) during which a meeting holds `people`; default about a third of the run. */
  readonly meeting?: { readonly from: number; readonly to: number; readonly people: number };
}

const HOUR = 3_600_000;

/**
 * One zone over time. Temperature drifts +-1.2 degC over 6 hours with 0.05 degC noise;
 * humidity +-3 %RH over 8 hours with 0.3 %RH noise; occupancy changes by one or two people
 * about every 30 minutes; CO2 settles towards 420 + 110 ppm per person with a 20-minute time
 * constant (8 people: about 1300 ppm) and 8 ppm noise; light is daylight (+-150 lux over
 * 4 hours) plus 300 lux while anyone is in, with 5 lux noise. Values are rounded as a sensor
 * reports them (0.01 degC and %RH, whole ppm, lux and people).
 */
export function zoneSeries(o: ZoneSeriesOptions): ZoneSample[] {
  const random = seededRandom(o.seed);
  const meeting = o.meeting ?? {
    from: Math.floor(o.samples * 0.35),
    to: Math.floor(o.samples * 0.6),
    people: 8,
  };
  const out: ZoneSample[] = [];
  let background = 0;
  let co2 = 450;
  const tauMs = 20 * 60_000;
  for (let i = 0; i < o.samples; i++) {
    const at = o.startMs + i * o.intervalMs;
    const t = i * o.intervalMs;
    // about one change per 30 minutes of samples
    if (random() < o.intervalMs / (30 * 60_000)) {
      const step = random() < 0.5 ? -1 : random() < 0.5 ? 1 : 2;
      background = Math.min(4, Math.max(0, background + step));
    }
    const occupancy = i >= meeting.from && i < meeting.to ? meeting.people : background;
    const target = 420 + 110 * occupancy;
    co2 += (target - co2) * (1 - Math.exp(-o.intervalMs / tauMs));
    const values: Required<SensorValues> = {
      temperature: round(20.5 + 1.2 * Math.sin((2 * Math.PI * t) / (6 * HOUR)) + gaussian(random, 0.05), 2),
      humidity: round(42 + 3 * Math.sin((2 * Math.PI * t) / (8 * HOUR) + 1) + gaussian(random, 0.3), 2),
      occupancy,
      co2: Math.round(co2 + gaussian(random, 8)),
      light: Math.max(
        0,
        Math.round(
          250 +
            150 * Math.sin((2 * Math.PI * t) / (4 * HOUR)) +
            (occupancy > 0 ? 300 : 0) +
            gaussian(random, 5),
        ),
      ),
    };
    for (const kind of SENSOR_KINDS) {
      const spec = MEASURES[kind];
      values[kind] = Math.min(spec.max, Math.max(spec.min, values[kind]));
    }
    out.push({ at, values });
  }
  return out;
}

/** The sample as a device sensing only `kinds` reads it. */
export function project(values: SensorValues, kinds: readonly SensorKind[]): SensorValues {
  const out: SensorValues = {};
  for (const kind of kinds) if (values[kind] !== undefined) out[kind] = values[kind];
  return out;
}

const round = (n: number, digits: number) => Math.round(n * 10 ** digits) / 10 ** digits;
