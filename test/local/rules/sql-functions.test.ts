/**
 * Every function of AWS's IoT SQL reference (SQL version 2016-03-23) that the older tests in
 * sql-evaluate.test.ts do not cover, each with the examples of the AWS IoT Developer Guide,
 * "Functions" page where it gives some.
 */
import { describe, expect, it } from 'vitest';
import { ACCOUNT, compile, message, value } from './helpers';

describe('trigonometric functions (Decimal results in double precision)', () => {
  it.each([
    ['acos(0)', 1.5707963267948966],
    ['asin(0)', 0],
    ['atan(0)', 0],
    ['atan2(1, 0)', 1.5707963267948966],
    ['cos(0)', 1],
    ['cosh(2.3)', 5.037220649268761],
    ['sin(0)', 0],
    ['sinh(2.3)', 4.936961805545957],
    ['tan(3)', -0.1425465430742778],
    ['tanh(2.3)', 0.9800963962661914],
  ])('%s = %d, as AWS documents', (expr, expected) => {
    expect(value(expr)).toBeCloseTo(expected, 15);
  });

  it('converts numeric strings and gives Undefined for imaginary results and other types', () => {
    expect(value("cos('0')")).toBe(1);
    expect(value('acos(2)')).toBeUndefined();
    expect(value('sin(true)')).toBeUndefined();
    expect(value("atan2('x', 1)")).toBeUndefined();
  });
});

describe('bitwise functions', () => {
  it('bitand(13, 5) = 5 and bitor(8, 5) = 13, as AWS documents', () => {
    expect(value('bitand(13, 5)')).toBe(5);
    expect(value('bitor(8, 5)')).toBe(13);
  });

  it('bitxor(13, 5) = 8 (AWS shows the call mistyped as bitor(13, 5) = 8)', () => {
    expect(value('bitxor(13, 5)')).toBe(8);
  });

  it("bitnot is the two's-complement NOT", () => {
    expect(value('bitnot(13)')).toBe(-14);
  });

  it('rounds Decimals and numeric strings down, and gives Undefined for other types', () => {
    expect(value('bitand(13.9, 5.2)')).toBe(5);
    expect(value("bitor('8', 5)")).toBe(13);
    expect(value('bitand(true, 1)')).toBeUndefined();
  });
});

describe('hashing', () => {
  it('md2("hello") = "a9046c73e00331af68917d3804f70655", as AWS documents', () => {
    expect(value('md2("hello")')).toBe('a9046c73e00331af68917d3804f70655');
  });

  it('md5("hello") = "5d41402abc4b2a76b9719d911017c592", as AWS documents', () => {
    expect(value('md5("hello")')).toBe('5d41402abc4b2a76b9719d911017c592');
  });
});

describe('padding', () => {
  it('pads with the given number of spaces: lpad("hello", 2), lpad(1, 3), rpad("hello", 2)', () => {
    expect(value('lpad("hello", 2)')).toBe('  hello');
    expect(value('lpad(1, 3)')).toBe('   1');
    expect(value('rpad("hello", 2)')).toBe('hello  ');
    expect(value('rpad(1, 3)')).toBe('1   ');
  });

  it('sets a count outside 0..1000 to the nearest valid one', () => {
    expect(value('lpad("x", -4)')).toBe('x');
    expect((value('rpad("x", 5000)') as string).length).toBe(1001);
  });
});

describe('transform()', () => {
  const payload = { attributes: { data1: 1, data2: 2 }, values: [{ a: 3 }, { b: 4 }, { c: 5 }] };

  it('enriches each array object with the object (AWS example 1)', () => {
    expect(
      compile('select value transform("enrichArray", attributes, values) from \'A/B\'').evaluate(
        message(payload, 'A/B'),
        { accountId: ACCOUNT },
      ).output,
    ).toEqual([
      { a: 3, data1: 1, data2: 2 },
      { b: 4, data1: 1, data2: 2 },
      { c: 5, data1: 1, data2: 2 },
    ]);
  });

  it('takes an object literal to rename attributes (AWS example 2)', () => {
    expect(
      compile(
        'select value transform("enrichArray", {"key": attributes.data1}, values) from \'A/B\'',
      ).evaluate(message(payload, 'A/B'), { accountId: ACCOUNT }).output,
    ).toEqual([
      { a: 3, key: 1 },
      { b: 4, key: 1 },
      { c: 5, key: 1 },
    ]);
  });

  it('takes nested SELECTs for both arguments (AWS example 3)', () => {
    const doc = {
      data1: 'example',
      data2: {
        a: 'first attribute',
        b: 'second attribute',
        c: [
          { x: { someInt: 5, someString: 'hello' }, y: true },
          { x: { someInt: 10, someString: 'world' }, y: false },
        ],
      },
    };
    const out = compile(
      "select value transform('enrichArray', (select a, b from data2), (select value c from data2)) from 'A/B'",
    ).evaluate(message(doc, 'A/B'), { accountId: ACCOUNT }).output;
    expect(out).toEqual([
      { x: { someInt: 5, someString: 'hello' }, y: true, a: 'first attribute', b: 'second attribute' },
      { x: { someInt: 10, someString: 'world' }, y: false, a: 'first attribute', b: 'second attribute' },
    ]);
  });

  it('is Undefined for any other mode', () => {
    expect(value("transform('merge', attributes, values)", payload)).toBeUndefined();
  });
});

describe('parse_time() (Joda-Time patterns)', () => {
  it('formats 100000000 in America/Belize as "1970.01.01 AD at 21:46:40 CST", as AWS documents', () => {
    expect(value(`parse_time("yyyy.MM.dd G 'at' HH:mm:ss z", 100000000, "America/Belize")`)).toBe(
      '1970.01.01 AD at 21:46:40 CST',
    );
  });

  it('formats in UTC by default, also the rule timestamp (timestamp() is 1763900000123 in the helper)', () => {
    expect(value(`parse_time("yyyy.MM.dd G 'at' HH:mm:ss z", timestamp())`)).toBe(
      '2025.11.23 AD at 12:13:20 UTC',
    );
    expect(value('parse_time("yyyy", timestamp(), "UTC")')).toBe('2025');
  });

  it('formats text, numbers, offsets, zone ids, fractions and quotes as Joda does', () => {
    const t = Date.UTC(2017, 5, 9, 17, 19, 46, 7);
    expect(value(`parse_time("EEEE, d MMMM yy h:mm a", ${t})`)).toBe('Friday, 9 June 17 5:19 PM');
    expect(value(`parse_time("EEE MMM dd HH:mm:ss.SSS", ${t})`)).toBe('Fri Jun 09 17:19:46.007');
    expect(value(`parse_time("yyyy-MM-dd'T'HH:mmZZ", ${t}, "Asia/Kolkata")`)).toBe('2017-06-09T22:49+05:30');
    expect(value(`parse_time("HHmm Z ZZZ", ${t}, "America/New_York")`)).toBe('1319 -0400 America/New_York');
    expect(value(`parse_time("D w e x C", ${t})`)).toBe('160 23 5 2017 20');
    expect(value(`parse_time("'at' h 'o''clock' k K", ${Date.UTC(2017, 0, 1, 0, 5)})`)).toBe(
      "at 12 o'clock 24 0",
    );
  });

  it('is Undefined for an unknown pattern letter, an unknown zone or a non-number timestamp', () => {
    expect(value('parse_time("yyyy q", 0)')).toBeUndefined();
    expect(value('parse_time("yyyy", 0, "Mars/Olympus")')).toBeUndefined();
    expect(value('parse_time("yyyy", "soon")')).toBeUndefined();
  });
});

describe('time_to_epoch() (java.time patterns)', () => {
  it.each([
    ['2020-04-03 09:45:18 UTC+01:00', 'yyyy-MM-dd HH:mm:ss VV', 1585903518000],
    ['18 December 2015', 'dd MMMM yyyy', 1450396800000],
    ['2007-12-03 10:15:30.592 America/Los_Angeles', 'yyyy-MM-dd HH:mm:ss.SSS z', 1196705730592],
  ])('time_to_epoch("%s", "%s") = %d, as AWS documents', (text, pattern, expected) => {
    expect(value(`time_to_epoch("${text}", "${pattern}")`)).toBe(expected);
  });

  it('reads a text that does not match its pattern as Undefined', () => {
    expect(value('time_to_epoch("December 2015", "dd MMMM yyyy")')).toBeUndefined();
    expect(value('time_to_epoch(1234, "yyyy")')).toBeUndefined();
  });
});

describe('get_or_default()', () => {
  it('returns the value, or the default for Undefined and Null', () => {
    expect(value('get_or_default(a, 5)', { a: 1 })).toBe(1);
    expect(value('get_or_default(missing, 5)', { a: 1 })).toBe(5);
    expect(value('get_or_default(n, "none")', { n: null })).toBe('none');
  });
});

describe('MQTT 5 and connection functions', () => {
  it('get_mqtt_property() and get_user_properties() are Undefined: the local broker speaks MQTT 3.1.1', () => {
    expect(value("get_mqtt_property('content_type')")).toBeUndefined();
    expect(value("get_user_properties('k')")).toBeUndefined();
  });

  it('sourceip() is the address the publisher connected from', () => {
    const out = compile("SELECT sourceip() AS ip FROM 'a/b/c'").evaluate(
      message({}, 'a/b/c', { sourceIp: '127.0.0.1' }),
      {
        accountId: ACCOUNT,
      },
    );
    expect(out.output).toEqual({ ip: '127.0.0.1' });
  });
});
