/**
 * The IoT SQL time functions (AWS IoT Developer Guide, "Functions": parse_time and
 * time_to_epoch), which use two different pattern languages, as AWS documents:
 * - parse_time(pattern, epochMillis[, timezone]) FORMATS a timestamp with Joda-Time's
 *   DateTimeFormat pattern letters (G C Y x w e E y D M d a K h H k m s S z Z), in a Joda time
 *   zone (default UTC). Written here over the platform's Intl time zone data.
 * - time_to_epoch(text, pattern) PARSES a timestamp with the JDK 11 DateTimeFormatter patterns
 *   (java.time), UTC when the text names no zone. js-joda is a port of java.time, so its
 *   parser is used, loaded when a rule that calls time_to_epoch is compiled (its time zone data
 *   takes most of a second to load, which no other rule should pay).
 *
 * LIMITATIONS versus AWS: parse_time's zone names (`z`, `zzzz`) are the English (en-US) names
 * of the platform's Intl data: a zone with no English abbreviation prints as `GMT+1` where
 * Joda prints `CET`. Text is English only, as AWS's examples are.
 */
import { createRequire } from 'node:module';

type JsJodaCore = typeof import('@js-joda/core');
type JsJodaLocale = typeof import('@js-joda/locale');

/** Pattern parts: literal text, or a run of one pattern letter. */
type Part = { readonly literal: string } | { readonly letter: string; readonly count: number };

/** Splits a Joda pattern: letters repeat into runs, `'...'` quotes text, `''` is a quote. */
function tokenizePattern(pattern: string): Part[] | undefined {
  const parts: Part[] = [];
  let i = 0;
  while (i < pattern.length) {
    const c = pattern[i]!;
    if (c === "'") {
      if (pattern[i + 1] === "'") {
        parts.push({ literal: "'" });
        i += 2;
        continue;
      }
      let text = '';
      i++;
      for (;;) {
        if (i >= pattern.length) return undefined;
        if (pattern[i] === "'") {
          if (pattern[i + 1] === "'") {
            text += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        text += pattern[i];
        i++;
      }
      parts.push({ literal: text });
    } else if (/[A-Za-z]/.test(c)) {
      let n = 1;
      while (pattern[i + n] === c) n++;
      parts.push({ letter: c, count: n });
      i += n;
    } else {
      parts.push({ literal: c });
      i++;
    }
  }
  return parts;
}

const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];
const DAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];

/** The fields of an instant in a time zone, from Intl; undefined for a zone Intl does not know. */
interface ZonedFields {
  /** Proleptic year (1 BC is 0). */
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
  readonly millis: number;
  /** Offset from UTC in minutes. */
  readonly offsetMinutes: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function zonedFormatter(zone: string, extra: Intl.DateTimeFormatOptions = {}): Intl.DateTimeFormat {
  const key = `${zone}\u0000${JSON.stringify(extra)}`;
  let f = formatters.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: zone, ...extra });
    formatters.set(key, f);
  }
  return f;
}

function zonedFields(epochMs: number, zone: string): ZonedFields | undefined {
  let parts: Intl.DateTimeFormatPart[];
  try {
    parts = zonedFormatter(zone, {
      era: 'short',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      hourCycle: 'h23',
      timeZoneName: 'longOffset',
    }).formatToParts(new Date(epochMs));
  } catch {
    return undefined;
  }
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  const yearOfEra = Number(get('year'));
  const offset = /GMT(?:([+-])(\d\d):(\d\d))?/.exec(get('timeZoneName'));
  const offsetMinutes = offset?.[1]
    ? (offset[1] === '-' ? -1 : 1) * (Number(offset[2]) * 60 + Number(offset[3]))
    : 0;
  return {
    year: get('era') === 'BC' ? 1 - yearOfEra : yearOfEra,
    month: Number(get('month')),
    day: Number(get('day')),
    hour: Number(get('hour')),
    minute: Number(get('minute')),
    second: Number(get('second')),
    millis: ((epochMs % 1000) + 1000) % 1000,
    offsetMinutes,
  };
}

/** Day of the week of a proleptic date, ISO numbering (Monday 1 ... Sunday 7). */
function isoDayOfWeek(year: number, month: number, day: number): number {
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  return ((d.getUTCDay() + 6) % 7) + 1;
}

function dayOfYear(year: number, month: number, day: number): number {
  const start = new Date(0);
  start.setUTCFullYear(year, 0, 1);
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  return Math.round((d.getTime() - start.getTime()) / 86_400_000) + 1;
}

/** ISO week-based year and week number (week 1 holds the year's first Thursday). */
function isoWeek(year: number, month: number, day: number): { weekyear: number; week: number } {
  const dow = isoDayOfWeek(year, month, day);
  const thursday = new Date(0);
  thursday.setUTCFullYear(year, month - 1, day + 4 - dow);
  const weekyear = thursday.getUTCFullYear();
  const jan1 = new Date(0);
  jan1.setUTCFullYear(weekyear, 0, 1);
  return { weekyear, week: Math.floor((thursday.getTime() - jan1.getTime()) / 86_400_000 / 7) + 1 };
}

const pad = (n: number, width: number) =>
  n < 0 ? `-${String(-n).padStart(width, '0')}` : String(n).padStart(width, '0');

/** Joda's year output: two digits for `yy`, else the number padded to the count. */
const yearText = (year: number, count: number) =>
  count === 2 ? pad(((year % 100) + 100) % 100, 2) : pad(year, count);

function offsetText(minutes: number, colon: boolean): string {
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  return `${sign}${pad(Math.floor(abs / 60), 2)}${colon ? ':' : ''}${pad(abs % 60, 2)}`;
}

function zoneName(epochMs: number, zone: string, long: boolean): string {
  const parts = zonedFormatter(zone, { timeZoneName: long ? 'long' : 'short' }).formatToParts(
    new Date(epochMs),
  );
  return parts.find((p) => p.type === 'timeZoneName')?.value ?? zone;
}

/**
 * parse_time: formats `epochMs` in `zone` with a Joda-Time pattern; undefined for a pattern
 * Joda would refuse (an unknown letter, an unclosed quote) or a zone it does not know.
 */
export function formatJodaTime(pattern: string, epochMs: number, zone: string): string | undefined {
  const parts = tokenizePattern(pattern);
  const f = parts ? zonedFields(epochMs, zone) : undefined;
  if (!parts || !f) return undefined;
  const yearOfEra = f.year <= 0 ? 1 - f.year : f.year;
  let out = '';
  for (const part of parts) {
    if ('literal' in part) {
      out += part.literal;
      continue;
    }
    const n = part.count;
    switch (part.letter) {
      case 'G':
        out += f.year <= 0 ? 'BC' : 'AD';
        break;
      case 'C':
        out += pad(Math.floor(yearOfEra / 100), n);
        break;
      case 'Y':
        out += yearText(yearOfEra, n);
        break;
      case 'y':
        out += yearText(f.year, n);
        break;
      case 'x':
        out += yearText(isoWeek(f.year, f.month, f.day).weekyear, n);
        break;
      case 'w':
        out += pad(isoWeek(f.year, f.month, f.day).week, n);
        break;
      case 'e':
        out += pad(isoDayOfWeek(f.year, f.month, f.day), n);
        break;
      case 'E': {
        const name = DAYS[isoDayOfWeek(f.year, f.month, f.day) - 1]!;
        out += n >= 4 ? name : name.slice(0, 3);
        break;
      }
      case 'D':
        out += pad(dayOfYear(f.year, f.month, f.day), n);
        break;
      case 'M':
        out += n >= 4 ? MONTHS[f.month - 1] : n === 3 ? MONTHS[f.month - 1]!.slice(0, 3) : pad(f.month, n);
        break;
      case 'd':
        out += pad(f.day, n);
        break;
      case 'a':
        out += f.hour < 12 ? 'AM' : 'PM';
        break;
      case 'K':
        out += pad(f.hour % 12, n);
        break;
      case 'h':
        out += pad(f.hour % 12 || 12, n);
        break;
      case 'H':
        out += pad(f.hour, n);
        break;
      case 'k':
        out += pad(f.hour || 24, n);
        break;
      case 'm':
        out += pad(f.minute, n);
        break;
      case 's':
        out += pad(f.second, n);
        break;
      case 'S':
        out += pad(f.millis, 3).padEnd(n, '0').slice(0, n);
        break;
      case 'z':
        out += zoneName(epochMs, zone, n >= 4);
        break;
      case 'Z':
        out += n >= 3 ? zone : offsetText(f.offsetMinutes, n === 2);
        break;
      default:
        return undefined;
    }
  }
  return out;
}

let javaTime: { core: JsJodaCore; locale: JsJodaLocale['Locale'] } | undefined;

/** Loads js-joda with its time zone rules and English text (once, when a rule needs them). */
export function loadJavaTime(): void {
  if (javaTime) return;
  const require = createRequire(import.meta.url);
  const core = require('@js-joda/core') as JsJodaCore;
  require('@js-joda/timezone');
  require('@js-joda/locale_en-us');
  const { Locale } = require('@js-joda/locale') as JsJodaLocale;
  javaTime = { core, locale: Locale };
}

/**
 * time_to_epoch: parses `text` with a java.time pattern into epoch milliseconds; UTC when the
 * text names no zone or offset, midnight when it names no time. Undefined when the text does
 * not match the pattern or the pattern is invalid.
 */
export function parseJavaTime(text: string, pattern: string): number | undefined {
  loadJavaTime();
  const { core, locale } = javaTime!;
  const { DateTimeFormatter, LocalDateTime, LocalTime, TemporalQueries, ZonedDateTime, ZoneOffset } = core;
  try {
    const parsed = DateTimeFormatter.ofPattern(pattern).withLocale(locale.US).parse(text);
    const date = parsed.query(TemporalQueries.localDate());
    if (!date) return undefined;
    const time = parsed.query(TemporalQueries.localTime()) ?? LocalTime.MIDNIGHT;
    const zone = parsed.query(TemporalQueries.zone()) ?? ZoneOffset.UTC;
    return ZonedDateTime.of(LocalDateTime.of(date, time), zone).toInstant().toEpochMilli();
  } catch {
    return undefined;
  }
}
