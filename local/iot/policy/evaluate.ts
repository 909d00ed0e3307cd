/**
 * The IoT policy evaluator: answers AuthorizationRequests from the policies attached to a
 * principal. Pure: no I/O, no clock.
 *
 * Follows the AWS IoT Developer Guide, "AWS IoT Core policies" and "Policy evaluation" (IAM
 * logic: statements from every attached policy are combined, an explicit Deny overrides any
 * Allow, and anything not allowed is denied), "AWS IoT Core policy elements" (Action /
 * NotAction, Resource / NotResource; in resources `*` and `?` are wildcards while `+` and `#`
 * are plain characters) and "Policy variables" (a statement whose variable cannot be resolved
 * does not apply).
 *
 * Evaluation runs in three steps so a broker pays for each only when its input changes:
 *   - `compilePolicies(policies)`: per statement, the Action matchers and the regular
 *     expressions of resources without variables, made once per policy document;
 *   - `.bind(context)`: per connection, the resources with policy variables expanded and
 *     compiled, and the Condition blocks decided (every condition key this evaluator knows is
 *     a property of the connection, not of the request);
 *   - `.evaluate(request)`: per action, pattern tests only.
 * `evaluatePolicies` does all three for one request.
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
  AuthorizationResult,
  PolicyDocument,
  PolicyEvaluator,
  PolicyStatement,
} from '../types';
import { type ConditionOutcome, evaluateConditions } from './conditions';
import { expand, toRegExp } from './template';

const asList = (v: string | readonly string[] | undefined): readonly string[] =>
  v === undefined ? [] : typeof v === 'string' ? [v] : v;

export function statementsOf(document: PolicyDocument): readonly PolicyStatement[] {
  const s = document?.Statement as PolicyStatement | readonly PolicyStatement[] | undefined;
  if (!s) return [];
  return Array.isArray(s) ? (s as readonly PolicyStatement[]) : [s as PolicyStatement];
}

type Test = (text: string) => boolean;

/** IAM action names are case-insensitive; `*` and `?` are wildcards. */
function actionTest(pattern: string): Test {
  if (!/[*?]/.test(pattern)) {
    const lower = pattern.toLowerCase();
    return (action) => action.length === lower.length && action.toLowerCase() === lower;
  }
  const re = toRegExp([{ text: pattern, pattern: true }], true);
  return (action) => re.test(action);
}

/** A resource pattern: fixed when it has no policy variable, else expanded per connection. */
type ResourcePattern = { readonly fixed: RegExp } | { readonly template: string };

interface CompiledStatement {
  readonly label: string;
  readonly effect: PolicyStatement['Effect'];
  /** Action, or NotAction when `negated`; undefined when the statement has neither. */
  readonly actions?: { readonly tests: readonly Test[]; readonly negated: boolean };
  readonly resources?: { readonly patterns: readonly ResourcePattern[]; readonly negated: boolean };
  readonly condition: PolicyStatement['Condition'];
}

/** A statement for one connection: its resources as expressions, its conditions decided. */
interface BoundStatement {
  readonly statement: CompiledStatement;
  readonly resources: readonly RegExp[];
  /** The first policy variable of a resource that cannot be resolved, if any. */
  readonly unresolved?: string;
  readonly conditions: ConditionOutcome;
}

export interface BoundPolicies {
  evaluate(request: AuthorizationRequest): AuthorizationResult;
}

export interface CompiledPolicies {
  /** The policies for one connection (whose context does not change while it is bound). */
  bind(context: AuthorizationContext): BoundPolicies;
}

const label = (policyName: string, index: number, stmt: PolicyStatement) => {
  const sid = (stmt as { Sid?: unknown }).Sid;
  return `policy ${policyName} Statement[${index}]${typeof sid === 'string' && sid ? ` (Sid ${sid})` : ''}`;
};

/** Compiled statements per parsed document; the registry parses each document once. */
const compiledDocuments = new WeakMap<
  PolicyDocument,
  { readonly policyName: string; readonly statements: readonly CompiledStatement[] }
>();

function compileDocument(policyName: string, document: PolicyDocument): readonly CompiledStatement[] {
  const cached = compiledDocuments.get(document);
  if (cached?.policyName === policyName) return cached.statements;
  const compiled = statementsOf(document).map((stmt, index): CompiledStatement => {
    const actionList = stmt.Action ?? stmt.NotAction;
    const resourceList = stmt.Resource ?? stmt.NotResource;
    return {
      label: label(policyName, index, stmt),
      effect: stmt.Effect,
      ...(actionList === undefined
        ? {}
        : { actions: { tests: asList(actionList).map(actionTest), negated: stmt.Action === undefined } }),
      ...(resourceList === undefined
        ? {}
        : {
            resources: {
              patterns: asList(resourceList).map((p) =>
                p.includes('${') ? { template: p } : { fixed: toRegExp([{ text: p, pattern: true }]) },
              ),
              negated: stmt.Resource === undefined,
            },
          }),
      condition: stmt.Condition,
    };
  });
  if (typeof document === 'object' && document !== null) {
    compiledDocuments.set(document, { policyName, statements: compiled });
  }
  return compiled;
}

function bindStatement(statement: CompiledStatement, context: AuthorizationContext): BoundStatement {
  const resources: RegExp[] = [];
  let unresolved: string | undefined;
  for (const p of statement.resources?.patterns ?? []) {
    if ('fixed' in p) {
      resources.push(p.fixed);
      continue;
    }
    const e = expand(p.template, context);
    if (e.ok) resources.push(toRegExp(e.pieces));
    else unresolved ??= e.variable;
  }
  return {
    statement,
    resources,
    ...(unresolved ? { unresolved } : {}),
    conditions: evaluateConditions(statement.condition, context),
  };
}

type Match = { readonly applies: true } | { readonly applies: false; readonly why?: string };

function applies(bound: BoundStatement, request: AuthorizationRequest): Match {
  const { actions, resources } = bound.statement;
  if (!actions) return { applies: false };
  if (actions.tests.some((t) => t(request.action)) === actions.negated) return { applies: false };
  if (!resources) return { applies: false };

  const matched = bound.resources.some((re) => re.test(request.resource));
  if (!resources.negated) {
    if (!matched) {
      return {
        applies: false,
        why: bound.unresolved ? `policy variable ${bound.unresolved} cannot be resolved` : undefined,
      };
    }
  } else {
    if (matched) return { applies: false };
    // A NotResource with an unresolvable variable cannot be checked, so the statement does not apply.
    if (bound.unresolved) {
      return { applies: false, why: `policy variable ${bound.unresolved} cannot be resolved` };
    }
  }
  return bound.conditions.met ? { applies: true } : { applies: false, why: bound.conditions.why };
}

export function compilePolicies(
  policies: ReadonlyArray<{ policyName: string; document: PolicyDocument }>,
): CompiledPolicies {
  const statements = policies.flatMap(({ policyName, document }) => compileDocument(policyName, document));
  const names = policies.map((p) => p.policyName).join(', ');
  return {
    bind(context) {
      const bound = statements.map((s) => bindStatement(s, context));
      return {
        evaluate(request) {
          if (policies.length === 0) {
            return {
              allowed: false,
              reason: `no policy is attached to the principal (implicit deny of ${request.action})`,
            };
          }
          let allow: string | undefined;
          const notes: string[] = [];
          for (const b of bound) {
            const m = applies(b, request);
            if (!m.applies) {
              if (m.why && b.statement.effect === 'Allow') notes.push(`${b.statement.label}: ${m.why}`);
              continue;
            }
            if (b.statement.effect === 'Deny') {
              return { allowed: false, reason: `explicitly denied by ${b.statement.label}` };
            }
            if (b.statement.effect === 'Allow') allow ??= `allowed by ${b.statement.label}`;
          }
          if (allow) return { allowed: true, reason: allow };
          const detail = notes.length > 0 ? `; ${notes.join('; ')}` : '';
          return {
            allowed: false,
            reason: `no statement in the attached policies (${names}) allows ${request.action} on ${request.resource}${detail}`,
          };
        },
      };
    },
  };
}

export const evaluatePolicies: PolicyEvaluator = (policies, request, context) =>
  compilePolicies(policies).bind(context).evaluate(request);
