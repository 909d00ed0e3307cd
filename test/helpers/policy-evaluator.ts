/**
 * A small IoT policy evaluator for broker tests (Allow/Deny, `*` and `?` wildcards, the
 * iot:ClientId and iot:Connection.Thing.* variables, Bool conditions). Tests switch to the
 * registry's evaluator once it exists; this one only has to agree with AWS on what they use.
 */
import type { AuthorizationContext, PolicyEvaluator, PolicyStatement } from '../../local/iot/types';

const list = (v: string | readonly string[] | undefined): readonly string[] =>
  v === undefined ? [] : typeof v === 'string' ? [v] : v;

const wildcard = (pattern: string, value: string) =>
  new RegExp(
    `^${pattern
      .split('')
      .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
      .join('')}$`,
  ).test(value);

function variable(name: string, ctx: AuthorizationContext): string | undefined {
  if (name === 'iot:ClientId') return ctx.clientId;
  if (name === 'iot:Connection.Thing.ThingName') return ctx.thing?.thingName;
  if (name === 'iot:Connection.Thing.IsAttached') return String(ctx.isAttached);
  const attr = /^iot:Connection\.Thing\.Attributes\[(.+)\]$/.exec(name);
  if (attr) return ctx.thing?.attributes[attr[1]!];
  return undefined;
}

function substitute(text: string, ctx: AuthorizationContext): string | undefined {
  let unresolved = false;
  const out = text.replace(/\$\{([^}]+)\}/g, (_, name: string) => {
    const v = variable(name, ctx);
    if (v === undefined) unresolved = true;
    return v ?? '';
  });
  return unresolved ? undefined : out;
}

function matches(s: PolicyStatement, action: string, resource: string, ctx: AuthorizationContext): boolean {
  if (!list(s.Action).some((a) => wildcard(a, action))) return false;
  const resources = list(s.Resource).map((r) => substitute(r, ctx));
  if (!resources.some((r) => r !== undefined && wildcard(r, resource))) return false;
  for (const [op, entries] of Object.entries(s.Condition ?? {})) {
    if (op !== 'Bool') return false;
    for (const [key, expected] of Object.entries(entries)) {
      if (!list(expected).includes(variable(key, ctx) ?? '')) return false;
    }
  }
  return true;
}

export const testPolicyEvaluator: PolicyEvaluator = (policies, request, context) => {
  let allowedBy: string | undefined;
  for (const { policyName, document } of policies) {
    const statements = Array.isArray(document.Statement) ? document.Statement : [document.Statement];
    for (const [i, s] of (statements as PolicyStatement[]).entries()) {
      if (!matches(s, request.action, request.resource, context)) continue;
      if (s.Effect === 'Deny')
        return { allowed: false, reason: `explicit Deny in ${policyName} statement ${i}` };
      allowedBy ??= `${policyName} statement ${i}`;
    }
  }
  return allowedBy
    ? { allowed: true, reason: `allowed by ${allowedBy}` }
    : { allowed: false, reason: 'no policy statement allows it (implicit deny)' };
};
