/**
 * The IoT policy evaluator: answers one AuthorizationRequest from the policies attached to a
 * principal. Pure: no I/O, no clock.
 *
 * Follows the AWS IoT Developer Guide, "AWS IoT Core policies" and "Policy evaluation" (IAM
 * logic: statements from every attached policy are combined, an explicit Deny overrides any
 * Allow, and anything not allowed is denied), "AWS IoT Core policy elements" (Action /
 * NotAction, Resource / NotResource; in resources `*` and `?` are wildcards while `+` and `#`
 * are plain characters) and "Policy variables" (a statement whose variable cannot be resolved
 * does not apply).
 *
 * LIMITATIONS versus AWS:
 * - Certificate variables (`${iot:Certificate.*}`) and `${iot:Connection.Thing.*}` beyond
 *   ThingName / ThingTypeName / Attributes / IsAttached are treated as unresolved.
 * - Policy versions, Cognito/IAM combinations and the few minutes of AWS policy caching are not
 *   modelled: a change applies to the next check.
 */
import type {
  AuthorizationContext,
  AuthorizationRequest,
  PolicyDocument,
  PolicyEvaluator,
  PolicyStatement,
} from '../types';
import { evaluateConditions } from './conditions';
import { expand, toRegExp } from './template';

type Match = { readonly applies: true } | { readonly applies: false; readonly why?: string };

const asList = (v: string | readonly string[] | undefined): readonly string[] =>
  v === undefined ? [] : typeof v === 'string' ? [v] : v;

export function statementsOf(document: PolicyDocument): readonly PolicyStatement[] {
  const s = document?.Statement as PolicyStatement | readonly PolicyStatement[] | undefined;
  if (!s) return [];
  return Array.isArray(s) ? (s as readonly PolicyStatement[]) : [s as PolicyStatement];
}

/** IAM action names are case-insensitive; `*` and `?` are wildcards. */
function actionMatches(patterns: readonly string[], action: string): boolean {
  return patterns.some((p) => toRegExp([{ text: p, pattern: true }], true).test(action));
}

/** Resources may hold policy variables; `undefined` means a variable could not be resolved. */
function resourceMatches(
  patterns: readonly string[],
  resource: string,
  context: AuthorizationContext,
): boolean | { unresolved: string } {
  let unresolved: string | undefined;
  for (const p of patterns) {
    const e = expand(p, context);
    if (!e.ok) {
      unresolved ??= e.variable;
      continue;
    }
    if (toRegExp(e.pieces).test(resource)) return true;
  }
  return unresolved ? { unresolved } : false;
}

function statementApplies(
  stmt: PolicyStatement,
  request: AuthorizationRequest,
  context: AuthorizationContext,
): Match {
  if (stmt.Action !== undefined) {
    if (!actionMatches(asList(stmt.Action), request.action)) return { applies: false };
  } else if (stmt.NotAction !== undefined) {
    if (actionMatches(asList(stmt.NotAction), request.action)) return { applies: false };
  } else {
    return { applies: false };
  }

  if (stmt.Resource !== undefined) {
    const m = resourceMatches(asList(stmt.Resource), request.resource, context);
    if (m !== true) {
      return {
        applies: false,
        why: m === false ? undefined : `policy variable ${m.unresolved} cannot be resolved`,
      };
    }
  } else if (stmt.NotResource !== undefined) {
    const m = resourceMatches(asList(stmt.NotResource), request.resource, context);
    if (m === true) return { applies: false };
    // A NotResource with an unresolvable variable cannot be checked, so the statement does not apply.
    if (m !== false) return { applies: false, why: `policy variable ${m.unresolved} cannot be resolved` };
  } else {
    return { applies: false };
  }

  const conditions = evaluateConditions(stmt.Condition, context);
  return conditions.met ? { applies: true } : { applies: false, why: conditions.why };
}

const label = (policyName: string, index: number, stmt: PolicyStatement) => {
  const sid = (stmt as { Sid?: unknown }).Sid;
  return `policy ${policyName} Statement[${index}]${typeof sid === 'string' && sid ? ` (Sid ${sid})` : ''}`;
};

export const evaluatePolicies: PolicyEvaluator = (policies, request, context) => {
  if (policies.length === 0) {
    return {
      allowed: false,
      reason: `no policy is attached to the principal (implicit deny of ${request.action})`,
    };
  }
  let allow: string | undefined;
  const notes: string[] = [];
  for (const { policyName, document } of policies) {
    for (const [index, stmt] of statementsOf(document).entries()) {
      const m = statementApplies(stmt, request, context);
      if (!m.applies) {
        if (m.why && stmt.Effect === 'Allow') notes.push(`${label(policyName, index, stmt)}: ${m.why}`);
        continue;
      }
      if (stmt.Effect === 'Deny') {
        return { allowed: false, reason: `explicitly denied by ${label(policyName, index, stmt)}` };
      }
      if (stmt.Effect === 'Allow') allow ??= `allowed by ${label(policyName, index, stmt)}`;
    }
  }
  if (allow) return { allowed: true, reason: allow };
  const names = policies.map((p) => p.policyName).join(', ');
  const detail = notes.length > 0 ? `; ${notes.join('; ')}` : '';
  return {
    allowed: false,
    reason: `no statement in the attached policies (${names}) allows ${request.action} on ${request.resource}${detail}`,
  };
};
