import { type CompiledRule, compileRule, type RuleMessage, SQL_VERSION_2016 } from '../../../local/rules/sql';

export const ACCOUNT = '123456789012';

export function message(payload: unknown, topic = 'a/b/c', extra: Partial<RuleMessage> = {}): RuleMessage {
  const bytes = Buffer.isBuffer(payload)
    ? payload
    : Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload));
  return { topic, payload: bytes, timestamp: 1_763_900_000_123, clientId: 'client-1', ...extra };
}

export function compile(sql: string): CompiledRule {
  return compileRule(sql, SQL_VERSION_2016);
}

/** SELECT output of `sql` on `payload`, or 'NO MATCH'. */
export function run(
  sql: string,
  payload: unknown = {},
  topic = 'a/b/c',
  extra: Partial<RuleMessage> = {},
): unknown {
  const r = compile(sql).evaluate(message(payload, topic, extra), {
    accountId: ACCOUNT,
    newUuid: () => 'uuid-1',
  });
  return r.matched ? r.output : 'NO MATCH';
}

/** Value of one expression, selected as `x`; undefined when the key was omitted (Undefined). */
export function value(expr: string, payload: unknown = {}): unknown {
  const out = run(`SELECT ${expr} AS x FROM 'a/b/c'`, payload) as Record<string, unknown>;
  return Object.hasOwn(out, 'x') ? out.x : undefined;
}
