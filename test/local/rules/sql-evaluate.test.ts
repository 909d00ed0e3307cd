import { describe, expect, it } from 'vitest';
import { serializeOutput } from '../../../local/rules/sql';
import { ACCOUNT, run, value } from './helpers';

describe('SELECT', () => {
  const payload = { color: 'red', temperature: 50 };

  it('returns the whole payload for SELECT *', () => {
    expect(run("SELECT * FROM 'a/b/c'", payload)).toEqual(payload);
  });

  it('adds keys to the payload with SELECT *, expr AS name', () => {
    expect(run("SELECT *, 15 AS speed FROM 'a/b/c'", payload)).toEqual({ ...payload, speed: 15 });
  });

  it('names an attribute item after the attribute', () => {
    expect(run("SELECT color FROM 'a/b/c'", payload)).toEqual({ color: 'red' });
  });

  it('renames keys with AS', () => {
    expect(run("SELECT color AS my_color, temperature as fahrenheit FROM 'a/b/c'", payload)).toEqual({
      my_color: 'red',
      fahrenheit: 50,
    });
  });

  it('navigates nested attributes with dots, keyed by the last name', () => {
    expect(
      run("SELECT state.reported.color FROM 'a/b/c'", { state: { reported: { color: 'blue' } } }),
    ).toEqual({
      color: 'blue',
    });
  });

  it('omits a key whose value is Undefined and keeps JSON null', () => {
    expect(run("SELECT foo, bar FROM 'a/b/c'", { foo: null })).toEqual({ foo: null });
  });

  it('produces a bare value with SELECT VALUE', () => {
    expect(run("SELECT VALUE temperature FROM 'a/b/c'", payload)).toBe(50);
  });

  it('produces a top-level array with SELECT VALUE of an array literal', () => {
    expect(run("SELECT VALUE [color, temperature] FROM 'a/b/c'", payload)).toEqual(['red', 50]);
  });

  it('serializes SELECT VALUE of Undefined as the empty payload', () => {
    expect(serializeOutput(run("SELECT VALUE nothing FROM 'a/b/c'", payload))).toEqual(Buffer.alloc(0));
  });

  it('still treats an attribute named value as an attribute', () => {
    expect(run("SELECT value FROM 'a/b/c'", { value: 3 })).toEqual({ value: 3 });
  });

  it('passes attribute names with spaces through under *', () => {
    expect(run("SELECT * FROM 'a/b/c'", { 'a b': 1 })).toEqual({ 'a b': 1 });
  });
});

describe('WHERE', () => {
  it('runs only when WHERE is Boolean true', () => {
    expect(run("SELECT * FROM 'a/b/c' WHERE t > 50", { t: 51 })).toEqual({ t: 51 });
    expect(run("SELECT * FROM 'a/b/c' WHERE t > 50", { t: 50 })).toBe('NO MATCH');
  });

  it('does not match when WHERE is Undefined', () => {
    expect(run("SELECT * FROM 'a/b/c' WHERE missing > 1", {})).toBe('NO MATCH');
  });

  it('does not match when WHERE is a non-Boolean value', () => {
    expect(run("SELECT * FROM 'a/b/c' WHERE 'true'", {})).toBe('NO MATCH');
    expect(run("SELECT * FROM 'a/b/c' WHERE 1", {})).toBe('NO MATCH');
  });

  it('cannot see SELECT aliases', () => {
    expect(run("SELECT t AS temp FROM 'a/b/c' WHERE temp > 1", { t: 5 })).toBe('NO MATCH');
  });
});

describe('literals', () => {
  it('reads strings in single and double quotes', () => {
    expect(value("'single'")).toBe('single');
    expect(value('"double"')).toBe('double');
  });

  it('reads an escaped quote by doubling it', () => {
    expect(value("'it''s'")).toBe("it's");
  });

  it('reads NULL in any case as JSON null', () => {
    expect(value('NULL')).toBeNull();
    expect(value('null')).toBeNull();
  });

  it('reads true and false', () => {
    expect(value('TRUE')).toBe(true);
    expect(value('false')).toBe(false);
  });

  it('reads Int, negative and Decimal numbers', () => {
    expect(value('42')).toBe(42);
    expect(value('-7')).toBe(-7);
    expect(value('2.5')).toBe(2.5);
    expect(value('1e3')).toBe(1000);
  });

  it('handles a whole-number decimal as Int', () => {
    expect(value('10.0 / 4')).toBe(2);
  });

  it('builds object literals, omitting Undefined members', () => {
    expect(value("{'k': a, 'n': nothing, 'x': 1 + 1}", { a: 'v' })).toEqual({ k: 'v', x: 2 });
  });

  it('builds array literals', () => {
    expect(value('[1, a, [2]]', { a: 'v' })).toEqual([1, 'v', [2]]);
  });
});

describe('CASE', () => {
  const expr = "CASE color WHEN 'green' THEN 'go' WHEN 'yellow' THEN 'caution' ELSE 'stop' END";

  it('returns the THEN of the first equal WHEN', () => {
    expect(value(expr, { color: 'yellow' })).toBe('caution');
  });

  it('returns ELSE when nothing matches', () => {
    expect(value(expr, { color: 'red' })).toBe('stop');
  });

  it('is Undefined with no match and no ELSE', () => {
    expect(value("CASE color WHEN 'green' THEN 'go' END", { color: 'red' })).toBeUndefined();
  });

  it('is Undefined when the value is Undefined, even with ELSE', () => {
    expect(value(expr, {})).toBeUndefined();
  });
});

describe('operators', () => {
  it.each([
    ['true AND true', true],
    ["true AND 'FALSE'", false],
    ['false OR true', true],
    ["NOT 'true'", false],
    ['NOT 1', undefined],
    ['true AND 1', undefined],
    ['false AND missing', undefined],
  ])('logic: %s is %s', (expr, expected) => {
    expect(value(expr)).toBe(expected);
  });

  it.each([
    ['2 > 1', true],
    ["'10' > 9", true],
    ['1.5 <= 1', false],
    ["'abc' > 1", undefined],
    ['true > false', undefined],
    ['missing < 1', undefined],
  ])('comparison via Decimal: %s is %s', (expr, expected) => {
    expect(value(expr)).toBe(expected);
  });

  it.each([
    ['1 = 1.0', true],
    ['1 = 1.5', false],
    ["'a' = 'a'", true],
    ["1 = '1'", false],
    ['[1, 2] = [1, 2]', true],
    ['[1, 2] = [2, 1]', false],
    ["{'a': 1, 'b': 2} = {'b': 2, 'a': 1}", true],
    ['null = null', true],
    ['null = 0', false],
    ['missing = 1', undefined],
    ['missing = missing', undefined],
  ])('equality: %s is %s', (expr, expected) => {
    expect(value(expr)).toBe(expected);
  });

  it.each([
    ["1 <> '1'", true],
    ['1 <> 1', false],
    ['null <> null', false],
    ['1 != 2', true],
    ['missing <> 1', undefined],
  ])('inequality: %s is %s', (expr, expected) => {
    expect(value(expr)).toBe(expected);
  });

  it.each([
    ["'5' + 1", '51'],
    ["'a' + true", 'atrue'],
    ['1 + 2', 3],
    ['1 + 0.5', 1.5],
    ['true + 1', undefined],
    ['null + 1', undefined],
    ["'5' - 1", 4],
    ["'x' - 1", undefined],
    ['6 * 7', 42],
    ["'2.5' * 2", 5],
    ['7 / 2', 3],
    ['7.5 / 2', 3.75],
    ['1 / 0', undefined],
    ['7 % 3', 1],
    ["'7' % 2", 1],
    ['-(3)', -3],
    ['2 + 3 * 4', 14],
    ['(2 + 3) * 4', 20],
  ])('arithmetic: %s is %s', (expr, expected) => {
    expect(value(expr)).toBe(expected);
  });
});

describe('functions', () => {
  const msg = { topic: 'dt/zonectl/hq/lobby/t1/readings' };
  const fn = (expr: string, payload: unknown = {}) => {
    const out = run(`SELECT ${expr} AS x FROM '#'`, payload, msg.topic, { principal: 'ab'.repeat(32) }) as {
      x?: unknown;
    };
    return out.x;
  };

  it('topic() is the full topic and topic(n) one 1-based level', () => {
    expect(fn('topic()')).toBe(msg.topic);
    expect(fn('topic(3)')).toBe('hq');
    expect(fn('topic(9)')).toBeUndefined();
  });

  it('clientid(), principal(), timestamp(), accountid() and newuuid() describe the message', () => {
    expect(fn('clientid()')).toBe('client-1');
    expect(fn('principal()')).toBe('ab'.repeat(32));
    expect(fn('timestamp()')).toBe(1_763_900_000_123);
    expect(fn('accountid()')).toBe(ACCOUNT);
    expect(fn('newuuid()')).toBe('uuid-1');
    expect(fn('sql_version()')).toBe('2016-03-23');
  });

  it('clientid() is "n/a" when the message did not come over MQTT', () => {
    expect(run("SELECT clientid() AS c FROM 'a/b/c'", {}, 'a/b/c', { clientId: undefined })).toEqual({
      c: 'n/a',
    });
  });

  it('get() indexes arrays and strings from 0 and objects by key', () => {
    const payload = { mydata: { item2: [{ 'my-key': 'found' }] }, arr: [10, 20] };
    expect(fn('get(get(get(mydata, "item2"), "0"), "my-key")', payload)).toBe('found');
    expect(fn('get(arr, 1)', payload)).toBe(20);
    expect(fn('get(arr, 5)', payload)).toBeUndefined();
    expect(fn("get('abc', 1)")).toBe('b');
    expect(fn('get(1, 1)')).toBeUndefined();
  });

  it('concat() concatenates strings, flattens arrays and returns one argument unchanged', () => {
    expect(fn("concat('a', 1, true)")).toBe('a1true');
    expect(fn('concat([1, 2], 3, [4])')).toEqual([1, 2, 3, 4]);
    expect(fn('concat(5)')).toBe(5);
    expect(fn('concat()')).toBeUndefined();
  });

  it('round() rounds half away from zero', () => {
    expect(fn('round(1.5)')).toBe(2);
    expect(fn('round(-1.5)')).toBe(-2);
    expect(fn('round(2.4)')).toBe(2);
    expect(fn("round('7.6')")).toBe(8);
    expect(fn("round('x')")).toBeUndefined();
  });

  it('abs(), floor(), ceil(), trunc() and mod() work on numbers and numeric strings', () => {
    expect(fn('abs(-3)')).toBe(3);
    expect(fn('floor(-1.5)')).toBe(-2);
    expect(fn("ceil('1.2')")).toBe(2);
    expect(fn('trunc(2.3456, 2)')).toBe(2.34);
    expect(fn('trunc(0.29, 2)')).toBe(0.29);
    expect(fn('trunc(-2.9, 0)')).toBe(-2);
    expect(fn('mod(8, 3)')).toBe(2);
    expect(fn('mod(8, 0)')).toBeUndefined();
    expect(fn('sqrt(16)')).toBe(4);
    expect(fn('power(2, 10)')).toBe(1024);
  });

  it('string functions transform strings and give Undefined for other types', () => {
    expect(fn("lower('AbC')")).toBe('abc');
    expect(fn("upper('abc')")).toBe('ABC');
    expect(fn("trim('  x ')")).toBe('x');
    expect(fn("length('héllo')")).toBe(5);
    expect(fn("substring('hello', 1, 3)")).toBe('el');
    expect(fn("substring('hello', 3, 1)")).toBe('');
    expect(fn("substring('hello', -5, 99)")).toBe('hello');
    expect(fn("indexof('hello', 'l')")).toBe(2);
    expect(fn("startswith('hello', 'he')")).toBe(true);
    expect(fn("endswith('hello', 'x')")).toBe(false);
    expect(fn("replace('a-b-c', '-', '+')")).toBe('a+b+c');
    expect(fn('lower([1])')).toBeUndefined();
  });

  it('isUndefined() and isNull() tell a missing key from a JSON null', () => {
    expect(fn('isUndefined(nope)', { n: null })).toBe(true);
    expect(fn('isUndefined(n)', { n: null })).toBe(false);
    expect(fn('isNull(n)', { n: null })).toBe(true);
    expect(fn('isNull(nope)', { n: null })).toBe(false);
  });

  it('cast() converts by AWS rules', () => {
    expect(fn("cast('12.7' AS Int)")).toBe(12);
    expect(fn('cast(-2.7 AS Integer)')).toBe(-2);
    expect(fn('cast(true AS Int)')).toBe(1);
    expect(fn('cast(0 AS Boolean)')).toBe(false);
    expect(fn("cast('TRUE' AS Bool)")).toBe(true);
    expect(fn("cast('yes' AS Boolean)")).toBeUndefined();
    expect(fn('cast(1.5 AS String)')).toBe('1.5');
    expect(fn('cast(a AS String)', { a: { b: [1] } })).toBe('{"b":[1]}');
    expect(fn("cast('3.25' AS Decimal)")).toBe(3.25);
    expect(fn("cast('abc' AS Double)")).toBeUndefined();
    expect(fn('cast(null AS Int)')).toBeNull();
  });

  it("encode(*, 'base64') encodes the original payload bytes", () => {
    expect(fn("encode(*, 'base64')", { a: 1 })).toBe(Buffer.from('{"a":1}').toString('base64'));
  });

  it("encode(value, 'base64') encodes a string value", () => {
    expect(fn("encode('hi', 'base64')")).toBe('aGk=');
    expect(fn("encode('hi', 'hex')")).toBeUndefined();
  });

  it("decode(value, 'base64') returns addressable JSON", () => {
    expect(fn(`decode('${Buffer.from('{"k":2}').toString('base64')}', 'base64').k`)).toBe(2);
  });
});

describe('variables and nested queries', () => {
  it('SET variables are usable in SELECT and WHERE', () => {
    expect(run("SET @f = t * 2 SELECT @f AS doubled FROM 'a/b/c' WHERE @f > 10", { t: 6 })).toEqual({
      doubled: 12,
    });
  });

  it('a nested SELECT VALUE query returns an array of values', () => {
    const payload = {
      e: [
        { n: 'a', v: 1 },
        { n: 'b', v: 2 },
      ],
    };
    expect(run("SELECT (SELECT VALUE n FROM e) AS names FROM 'a/b/c'", payload)).toEqual({
      names: ['a', 'b'],
    });
  });

  it('a nested query with WHERE filters the array', () => {
    const payload = {
      e: [
        { n: 'a', v: 1 },
        { n: 'x', v: 2 },
      ],
    };
    expect(run("SELECT (SELECT v FROM e WHERE n = 'x') AS picked FROM 'a/b/c'", payload)).toEqual({
      picked: [{ v: 2 }],
    });
  });
});

describe('non-JSON payloads', () => {
  const bytes = Buffer.from([0x00, 0xff, 0x10, 0x80]);

  it('SELECT * returns the raw bytes', () => {
    expect(run("SELECT * FROM 'a/b/c'", bytes)).toEqual(bytes);
  });

  it("encode(*, 'base64') encodes the raw bytes", () => {
    expect(run("SELECT encode(*, 'base64') AS data FROM 'a/b/c'", bytes)).toEqual({
      data: bytes.toString('base64'),
    });
  });

  it('attributes of a binary payload are Undefined', () => {
    expect(run("SELECT * FROM 'a/b/c' WHERE device_type = 'thermostat'", bytes)).toBe('NO MATCH');
    expect(run("SELECT device_type FROM 'a/b/c'", bytes)).toEqual({});
  });

  it('fails to evaluate SELECT * plus other items on a binary payload', () => {
    expect(() => run("SELECT *, 1 AS one FROM 'a/b/c'", bytes)).toThrow(/not JSON/);
  });
});
