// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are IoT substitution templates, not JS templates
import { describe, expect, it } from 'vitest';
import { compileTemplate, evaluateTemplate, SqlParseError } from '../../../local/rules/sql';
import { ACCOUNT, compile, message } from './helpers';

describe('substitution templates', () => {
  const rule = compile("SET @zone = topic(2) SELECT temperature AS t FROM 'a/+/c'");
  const msg = message({ temperature: 21, device: { id: 'd1' } }, 'a/lobby/c');

  it('substitutes functions and payload fields', () => {
    expect(evaluateTemplate('${topic()}/republish/${device.id}', msg, rule)).toBe('a/lobby/c/republish/d1');
  });

  it('evaluates operators and SET variables', () => {
    const evaluation = rule.evaluate(msg, { accountId: ACCOUNT });
    expect(evaluateTemplate('${@zone}-${temperature + 1}', msg, rule, { evaluation })).toBe('lobby-22');
  });

  it('cannot see SELECT aliases, so an alias substitutes as empty', () => {
    expect(evaluateTemplate('x${t}y', msg, rule)).toBe('xy');
  });

  it('leaves text without templates unchanged', () => {
    expect(evaluateTemplate('plain/topic', msg, rule)).toBe('plain/topic');
  });

  it('renders objects as JSON and handles braces inside the expression', () => {
    expect(evaluateTemplate("${ {'k': device.id} }", msg, rule)).toBe('{"k":"d1"}');
  });

  it('fails to compile an unterminated template', () => {
    expect(() => compileTemplate('a/${topic(')).toThrow(SqlParseError);
  });

  it('fails to compile a template using an external function', () => {
    expect(() => compileTemplate("${get_thing_shadow('t', 'arn')}")).toThrow(/external function/);
  });
});
