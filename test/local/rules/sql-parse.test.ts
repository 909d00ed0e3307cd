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

  it('refuses an external function at compile time, naming it', () => {
    const err = parseError("SELECT get_dynamodb('t', 'k', id, 'arn:aws:iam::1:role/r') AS d FROM 'a'");
    expect(err.reason).toMatch(/get_dynamodb\(\) is an external function/);
    expect(err.position.offset).toBe(7);
  });

  it.each(['aws_lambda', 'get_thing_shadow', 'machinelearning_predict'])(
    'refuses the external function %s',
    (f) => {
      expect(parseError(`SELECT ${f}('x', 'y') AS r FROM 'a'`).reason).toMatch(/external function/);
    },
  );

  it('refuses an unknown function', () => {
    expect(parseError("SELECT frobnicate(a) AS r FROM 'a'").reason).toBe('unknown function frobnicate()');
  });

  it('refuses an AWS function the engine does not emulate', () => {
    expect(parseError("SELECT parse_time('yyyy', 1) AS r FROM 'a'").reason).toMatch(/does not emulate/);
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
