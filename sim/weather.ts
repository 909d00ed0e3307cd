import { gaussian, seededRandom } from './random';

/**
 * Outdoor conditions for the simulated day: a daily temperature cycle (coldest near 05:00,
 * warmest near 15:00) with slow seeded noise, and daylight from sunrise to sunset. Times of
 * day count from `origin`, the local midnight of the simulated day, in whole milliseconds, so
 * the same seed gives the same weather on any date.
 */
export interface Weather {
  /** Outdoor temperature in degC at a time (epoch ms). */
  temperature(at: number): number;
  /** Outdoor illuminance in lux at a time (epoch ms). */
  daylight(at: number): number;
}

export interface WeatherOptions {
  readonly seed: number;
  /** Local midnight of the simulated day (epoch ms). @default 0 (midnight UTC) */
  readonly origin?: number;
  readonly meanC?: number;
  readonly swingC?: number;
  readonly sunrise?: number;
  readonly sunset?: number;
  readonly peakLux?: number;
}

const HOUR = 3_600_000;

export function createWeather(options: WeatherOptions): Weather {
  const mean = options.meanC ?? 6;
  const swing = options.swingC ?? 4;
  const sunrise = options.sunrise ?? 7.5;
  const sunset = options.sunset ?? 16.5;
  const peak = options.peakLux ?? 25_000;
  // Hourly noise points, interpolated, so the weather is smooth and repeatable.
  const random = seededRandom(options.seed ^ 0x5eed);
  const noise = new Map<number, number>();
  const noiseAt = (hour: number) => {
    let n = noise.get(hour);
    if (n === undefined) {
      n = gaussian(random) * 0.8;
      noise.set(hour, n);
    }
    return n;
  };
  const cloud = 0.6 + 0.4 * seededRandom(options.seed ^ 0xc10d)();
  const origin = options.origin ?? 0;
  const hours = (at: number) => (at - origin) / HOUR;
  return {
    temperature(at) {
      const hourOfDay = ((hours(at) % 24) + 24) % 24;
      const cycle = -Math.cos(((hourOfDay - 5) / 24) * 2 * Math.PI) * swing;
      const h = Math.floor(hours(at));
      const f = hours(at) - h;
      return mean + cycle + noiseAt(h) * (1 - f) + noiseAt(h + 1) * f;
    },
    daylight(at) {
      const hourOfDay = ((hours(at) % 24) + 24) % 24;
      if (hourOfDay <= sunrise || hourOfDay >= sunset) return 0;
      const phase = (hourOfDay - sunrise) / (sunset - sunrise);
      return peak * cloud * Math.sin(Math.PI * phase);
    },
  };
}
