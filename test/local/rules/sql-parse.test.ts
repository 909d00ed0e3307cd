import { describe, expect, it } from 'vitest';
import { compileRule, SqlParseError } from '../../../local/rules/sql';
import { compile } from './helpers';

function parseError(sql: string, version = '2016-03-23'): SqlParseError {
  try {
    compileRule(sql, version);
  } catch (err) {
    if (err instanceof SqlParseError) return err;
    throw err;
  }
  throw new Error(`expected a parse error for: ${sql}`);
}

describe('IoT SQL versions', () => {
  it('refuses SQL version 2015-10-08 and says to set 2016-03-23', () => {
    const err = parseError("SELECT * FROM 'a'", '2015-10-08');
    expect(err.reason).toMatch(/2015-10-08.*not emulated/);
    expect(err.reason).toContain('2016-03-23');
  });

  it('treats an omitted version as 2015-10-08, as AWS does, and refuses it', () => {
    expect(() => compileRule("SELECT * FROM 'a'")).toThrow(/2015-10-08/);
  });

  it('refuses the beta version', () => {
    expect(parseError("SELECT * FROM 'a'", 'beta').reason).toMatch(/'beta' is not emulated/);
  });

  it('accepts 2016-03-23', () => {
    expect(compileRule("SELECT * FROM 'a'", '2016-03-23').version).toBe('2016-03-23');
  });
});

describe('IoT SQL parse errors', () => {
  it('names the line, column and offset of an unexpected token', () => {
    const err = parseError("SELECT a FROM 'x' WHERE a >");
    expect(err.position).toEqual({ offset: 27, line: 1, column: 28 });
    expect(err.reason).toMatch(/expected an expression/);
    expect(err.message).toMatch(/^line 1:28 \(offset 27\)/);
  });

  it('counts lines in a multi-line statement', () => {
    const err = parseError("SELECT a\nFROM 'x'\nWHERE ) ");
    expect(err.position).toMatchObject({ line: 3, column: 7 });
  });

  it('accepts every external function of the reference, as CreateTopicRule does', () => {
    for (const sql of [
      "SELECT aws_lambda('arn:aws:lambda:us-east-1:123456789012:function:f', *) AS r FROM 'a'",
      "SELECT * FROM 'a' WHERE get_thing_shadow('t', 'arn:aws:iam::1:role/r').state.reported.alarm = 'ON'",
      "SELECT get_thing_shadow('t', 'named', 'arn:aws:iam::1:role/r') AS s FROM 'a'",
      "SELECT get_dynamodb('t', 'k', id, 'arn:aws:iam::1:role/r').location AS l FROM 'a'",
      "SELECT get_dynamodb('t', 'pk', id, 'sk', 1, 'arn:aws:iam::1:role/r') AS l FROM 'a'",
      "SELECT get_secret('key', 'SecretString', 'value', 'arn:aws:iam::1:role/r') AS s FROM 'a'",
      "SELECT get_registry_data('DescribeThing', topic(2), 'arn:aws:iam::1:role/r') AS d FROM 'a/+'",
      "SELECT machinelearning_predict('model', 'arn:aws:iam::1:role/r', *) AS p FROM 'a'",
      "SELECT VALUE decode(*, 'proto', 'bucket', 'desc.desc', 'file', 'Message') FROM 'a'",
    ]) {
      expect(compile(sql).callsExternal, sql).toBe(true);
    }
    expect(compile("SELECT decode(x, 'base64') AS d FROM 'a'").callsExternal).toBe(false);
  });

  it('refuses an unknown function, naming the reference', () => {
    expect(parseError("SELECT frobnicate(a) AS r FROM 'a'").reason).toMatch(
      /^unknown function frobnicate\(\): not a function of the AWS IoT SQL reference/,
    );
  });

  it.each(['isString', 'isNumber', 'isBoolean', 'isArray', 'isObject', 'log2'])(
    'refuses %s(), which is not an AWS IoT SQL function',
    (f) => {
      expect(parseError(`SELECT ${f}(a) AS r FROM 'a'`).reason).toMatch(/unknown function/);
    },
  );

  it('refuses an external function with the wrong number of arguments', () => {
    expect(parseError("SELECT get_thing_shadow('t') AS r FROM 'a'").reason).toBe(
      'get_thing_shadow() takes 2 to 3 argument(s), got 1',
    );
  });

  it('refuses a call with the wrong number of arguments', () => {
    expect(parseError("SELECT get(a) AS r FROM 'a'").reason).toBe('get() takes 2 argument(s), got 1');
  });

  it('refuses a FROM topic filter in double quotes', () => {
    expect(parseError('SELECT * FROM "a/b"').reason).toMatch(/single quotes/);
  });

  it('refuses a topic filter with # before the last level', () => {
    expect(parseError("SELECT * FROM 'a/#/b'").reason).toMatch(/'#' must be the whole last level/);
  });

  it('refuses an unterminated string', () => {
    expect(parseError("SELECT 'abc FROM 'a'").reason).toMatch(/unterminated string/);
  });

  it('refuses CASE without WHEN', () => {
    expect(parseError("SELECT CASE a ELSE 1 END AS r FROM 'a'").reason).toMatch(/at least one WHEN/);
  });

  it('refuses an unknown cast type', () => {
    expect(parseError("SELECT cast(a AS Float) AS r FROM 'a'").reason).toMatch(/unknown cast type 'Float'/);
  });

  it('refuses a variable that no SET item defines', () => {
    expect(parseError("SELECT @nope AS r FROM 'a'").reason).toMatch(/@nope is not set/);
  });

  it('refuses text after the end of the statement', () => {
    expect(parseError("SELECT a FROM 'x' LIMIT 1").reason).toMatch(/unexpected 'LIMIT'/);
  });

  it('refuses a digit after a dot and points to get()', () => {
    expect(parseError("SELECT a.0 FROM 'x'").reason).toMatch(/need get\(\)/);
  });

  it('refuses a keyword used as an attribute name', () => {
    expect(parseError("SELECT from FROM 'a'").reason).toMatch(/keyword/);
  });
});

describe("names of Object's own members", () => {
  it.each([
    ['constructor(1)', 'unknown function constructor()'],
    ['toString()', 'unknown function toString()'],
    ['__proto__(1)', 'unknown function __proto__()'],
    ['cast(a AS constructor)', 'constructor'],
  ])('refuses %s as unknown', (expr, message) => {
    expect(() => compileRule(`SELECT ${expr} AS x FROM 'a'`, '2016-03-23')).toThrow(message);
  });
});

describe('IoT SQL nested too deeply', () => {
  it.each([
    ['50,000 nested parentheses', `SELECT ${'('.repeat(50_000)}1${')'.repeat(50_000)} AS x FROM 'a'`],
    ['50,000 NOTs', `SELECT * FROM 'a' WHERE ${'NOT '.repeat(50_000)}true`],
    ['a chain of 50,000 additions', `SELECT 1${' + 1'.repeat(50_000)} AS x FROM 'a'`],
    ['50,000 nested objects', `SELECT ${'{"a": '.repeat(50_000)}1${'}'.repeat(50_000)} AS x FROM 'a'`],
  ])('refuses %s with SqlParseException, not a stack overflow', (_what, sql) => {
    let err: unknown;
    try {
      compileRule(sql, '2016-03-23');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SqlParseError);
    expect((err as SqlParseError).code).toBe('SqlParseException');
    expect((err as SqlParseError).message).toContain('nested too deeply');
  });

  it('compiles a statement nested a few dozen levels deep', () => {
    expect(() =>
      compileRule(`SELECT ${'('.repeat(40)}1${')'.repeat(40)} AS x FROM 'a'`, '2016-03-23'),
    ).not.toThrow();
  });
});

describe('IoT SQL statement shape', () => {
  it('accepts keywords and function names in any case', () => {
    expect(() => compile("select Round(a) as r, TRIM(b) AS t from 'x' where A > 1")).not.toThrow();
  });

  it('allows a rule without FROM (Basic Ingest only) that matches no broker topic', () => {
    const rule = compile('SELECT *');
    expect(rule.topicFilter).toBeUndefined();
    expect(rule.matchesTopic('a')).toBe(false);
  });

  it('exposes the variables SET defines', () => {
    expect([...compile("SET @a = 1, @b = @a + 1 SELECT @b AS b FROM 'x'").variableNames]).toEqual(['a', 'b']);
  });
});

describe('FROM topic filters', () => {
  const matches = (filter: string, topic: string) => compile(`SELECT * FROM '${filter}'`).matchesTopic(topic);

  it('matches + to exactly one level', () => {
    expect(matches('topic/+', 'topic/subtopic')).toBe(true);
    expect(matches('topic/+', 'topic/subtopic-3/details')).toBe(false);
  });

  it('matches # to its own level and below but not the parent', () => {
    expect(matches('sensor/#', 'sensor/')).toBe(true);
    expect(matches('sensor/#', 'sensor/a')).toBe(true);
    expect(matches('sensor/#', 'sensor/a/b')).toBe(true);
    expect(matches('sensor/#', 'sensor')).toBe(false);
  });

  it('does not match a different first level', () => {
    expect(matches('topic/#', 'topic-2/subtopic-x')).toBe(false);
  });

  it('matches reserved topics named explicitly', () => {
    expect(matches('$aws/things/+/shadow/update/delta', '$aws/things/t1/shadow/update/delta')).toBe(true);
  });

  it('does not match reserved topics with a leading wildcard', () => {
    expect(matches('#', '$aws/things/t1/shadow/update')).toBe(false);
  });
});
