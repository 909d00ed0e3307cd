// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are IoT substitution templates, not JS templates
import { describe, expect, it } from 'vitest';
import { compileTemplate, evaluateTemplate, SqlParseError } from '../../../local/rules/sql';
import { ACCOUNT, compile, message } from './helpers';

describe('substitution templates', () => {
  const rule = compile("SET @zone = topic(2) SELECT temperature AS t FROM 'a/+/c'");
  const msg = message({ temperature: 21, device: { id: 'd1' } }, 'a/lobby/c');

  it('substitutes functions and payload fields', async () => {
    expect(await evaluateTemplate('${topic()}/republish/${device.id}', msg, rule)).toBe(
      'a/lobby/c/republish/d1',
    );
  });

  it('evaluates operators and SET variables', async () => {
    const evaluation = rule.evaluate(msg, { accountId: ACCOUNT });
    expect(await evaluateTemplate('${@zone}-${temperature + 1}', msg, rule, { evaluation })).toBe('lobby-22');
  });

  it('cannot see SELECT aliases, so an alias substitutes as empty', async () => {
    expect(await evaluateTemplate('x${t}y', msg, rule)).toBe('xy');
  });

  it('leaves text without templates unchanged', async () => {
    expect(await evaluateTemplate('plain/topic', msg, rule)).toBe('plain/topic');
  });

  it('renders objects as JSON and handles braces inside the expression', async () => {
    expect(await evaluateTemplate("${ {'k': device.id} }", msg, rule)).toBe('{"k":"d1"}');
  });

  it('fails to compile an unterminated template', () => {
    expect(() => compileTemplate('a/${topic(')).toThrow(SqlParseError);
  });

  it('runs an external function in a template through the caller it is given', async () => {
    const external = async (call: { name: string; args: readonly unknown[] }) =>
      call.name === 'get_thing_shadow'
        ? { state: { reported: { room: `r-${String(call.args[0])}` } } }
        : null;
    expect(
      await evaluateTemplate(
        "out/${get_thing_shadow(device.id, 'arn:aws:iam::1:role/r').state.reported.room}",
        msg,
        rule,
        {
          external,
        },
      ),
    ).toBe('out/r-d1');
  });

  it('rejects a template whose external call fails', async () => {
    await expect(evaluateTemplate("${get_thing_shadow('t', 'arn')}", msg, rule)).rejects.toThrow(
      /get_thing_shadow/,
    );
  });
});
