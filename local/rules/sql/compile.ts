/**
 * AWS IoT SQL 2016-03-23 for the local rules engine: compile a rule's SQL once (refusing what
 * AWS refuses, and what this engine cannot run faithfully, with a position and a reason),
 * then evaluate it per message.
 *
 * LIMITATIONS versus AWS: only SQL version 2016-03-23 runs; 2015-10-08 (AWS's default when
 * awsIotSqlVersion is omitted) and beta are refused. Numbers are double precision. A payload
 * nested so deeply that the statement's output cannot be built (tens of thousands of levels
 * selected whole) fails the evaluation; AWS documents no nesting limit for payloads. See the
 * headers of parser.ts, evaluator.ts and functions.ts for the rest.
 */
import { randomUUID } from 'node:crypto';
import { compileTopicFilter, isStackOverflow, MAX_SYNTAX_DEPTH, nestingDepth } from '../../common';
import type { Expr, Query } from './ast';
import { SqlParseError } from './errors';
import {
  type Evaluating,
  type ExternalCall,
  evaluate,
  evaluateSets,
  project,
  RawPayload,
  runAsync,
  runSync,
  type Scope,
  SqlEvaluationError,
  whereMatches,
} from './evaluator';
import type { FunctionContext } from './functions';
import { Parser } from './parser';
import { type CompiledTemplate, compileTemplate, renderTemplate } from './template';
import { type SqlValue, serialize, stripUndefined } from './values';
import { DEFAULT_AWS_SQL_VERSION, SQL_VERSION_2016 } from './version';

/** One message as the rules engine sees it. */
export interface RuleMessage {
  /** The topic as the rule sees it: for Basic Ingest, without the `$aws/rules/<rule>/` prefix. */
  readonly topic: string;
  readonly payload: Buffer;
  /** MQTT client id; absent when the message did not arrive over MQTT (clientid() is "n/a"). */
  readonly clientId?: string;
  /** Certificate id of the publisher (principal()). */
  readonly principal?: string;
  /** When the rules engine saw the message, epoch milliseconds (timestamp()). */
  readonly timestamp: number;
  /** The IP address the publisher connected from (sourceip()). */
  readonly sourceIp?: string;
}

export interface EvaluationContext {
  /** accountid(): the rule owner's account. */
  readonly accountId: string;
  /** newuuid(); defaults to crypto.randomUUID. */
  readonly newUuid?: () => string;
  /**
   * Makes the external function calls (aws_lambda, get_thing_shadow, ...) of an asynchronous
   * evaluation; a rejection fails the statement. Without it every external call fails.
   */
  readonly external?: (call: ExternalCall) => Promise<unknown>;
}

export interface Evaluation {
  readonly matched: boolean;
  /**
   * The SELECT output when matched: a JSON value with Undefined keys omitted, a Buffer for a
   * raw (non-JSON) payload selected with `*`, or undefined for `SELECT VALUE` of Undefined.
   */
  readonly output?: unknown;
  /** SET variables as evaluated for this message, for substitution templates. */
  readonly variables: ReadonlyMap<string, unknown>;
}

export interface CompiledRule {
  readonly sql: string;
  readonly version: string;
  /** The FROM topic filter; undefined when the rule runs only through Basic Ingest. */
  readonly topicFilter: string | undefined;
  /** SET variable names, visible to the rule's substitution templates. */
  readonly variableNames: ReadonlySet<string>;
  /** True when the statement calls an external function: evaluate it with evaluateAsync. */
  readonly callsExternal: boolean;
  matchesTopic(topic: string): boolean;
  /**
   * Runs SET, WHERE then SELECT; throws SqlEvaluationError when the statement cannot be
   * evaluated, or calls an external function (use evaluateAsync).
   */
  evaluate(message: RuleMessage, ctx: EvaluationContext): Evaluation;
  /** The same, making external calls through `ctx.external`; a failed call fails the statement. */
  evaluateAsync(message: RuleMessage, ctx: EvaluationContext): Promise<Evaluation>;
}

/**
 * Compiles a rule. `version` is the rule's awsIotSqlVersion; as in AWS, omitting it means
 * 2015-10-08, which this engine refuses.
 */
export function compileRule(sql: string, version: string = DEFAULT_AWS_SQL_VERSION): CompiledRule {
  checkVersion(version);
  const variables = new Set<string>();
  const query = parseStatement(sql, variables);
  const topicFilter = query.from?.k === 'topic' ? query.from.filter : undefined;
  return {
    sql,
    version,
    topicFilter,
    variableNames: variables,
    callsExternal: queryCallsExternal(query),
    matchesTopic: topicFilter === undefined ? () => false : compileTopicFilter(topicFilter),
    evaluate: (message, ctx) => boundedDepth(() => runSync(evaluateQuery(query, message, ctx))),
    evaluateAsync: (message, ctx) =>
      boundedDepth(() => runAsync(evaluateQuery(query, message, ctx), externalCaller(ctx))),
  };
}

/**
 * Parses a statement; one whose syntax tree is more than MAX_SYNTAX_DEPTH levels deep is refused
 * with SqlParseException (AWS documents no nesting limit), never a stack overflow.
 */
function parseStatement(sql: string, variables: Set<string>) {
  const tooDeep = () =>
    new SqlParseError(
      `the statement is nested too deeply: the local rules engine runs syntax trees up to ${MAX_SYNTAX_DEPTH} levels deep (parentheses, calls, operators)`,
      { offset: 0, line: 1, column: 1 },
    );
  let query: ReturnType<Parser['parseStatement']>;
  try {
    query = new Parser(sql, variables).parseStatement();
  } catch (err) {
    if (isStackOverflow(err)) throw tooDeep();
    throw err;
  }
  if (nestingDepth(query, MAX_SYNTAX_DEPTH) > MAX_SYNTAX_DEPTH) throw tooDeep();
  return query;
}

/**
 * Runs an evaluation whose values may be nested too deeply for the recursive steps (copying the
 * SELECT output, serializing it): a stack overflow becomes a SqlEvaluationError naming the
 * cause, so the rule runs no action and says why, as for any evaluation error.
 */
function boundedDepth<T>(run: () => T): T {
  const tooDeep = () =>
    new SqlEvaluationError(
      'the payload, or a value the statement selects from it, is nested too deeply to evaluate (not emulated)',
    );
  try {
    const result = run();
    if (result instanceof Promise) {
      return result.catch((err: unknown) => {
        throw isStackOverflow(err) ? tooDeep() : err;
      }) as T;
    }
    return result;
  } catch (err) {
    throw isStackOverflow(err) ? tooDeep() : err;
  }
}

function externalCaller(ctx: EvaluationContext): (call: ExternalCall) => Promise<unknown> {
  return (
    ctx.external ??
    (async (call) => {
      throw new Error(`${call.name}(): no external service is available to this evaluation`);
    })
  );
}

/** Whether an expression (or a nested query in it) calls an external function. */
export function callsExternal(e: Expr): boolean {
  switch (e.k) {
    case 'call':
      return e.external === true || e.args.some(callsExternal);
    case 'member':
      return callsExternal(e.object);
    case 'cast':
    case 'negate':
    case 'not':
      return callsExternal(e.expr);
    case 'binary':
      return callsExternal(e.left) || callsExternal(e.right);
    case 'case':
      return (
        callsExternal(e.subject) ||
        e.whens.some((w) => callsExternal(w.when) || callsExternal(w.result)) ||
        (e.otherwise !== undefined && callsExternal(e.otherwise))
      );
    case 'object':
      return e.entries.some((x) => callsExternal(x.value));
    case 'array':
      return e.items.some(callsExternal);
    case 'subquery':
      return queryCallsExternal(e.query);
    default:
      return false;
  }
}

function queryCallsExternal(q: Query): boolean {
  const p = q.projection;
  const items = p.k === 'value' ? [p.expr] : p.items.flatMap((i) => (i.k === 'item' ? [i.expr] : []));
  return (
    q.sets.some((x) => callsExternal(x.expr)) ||
    items.some(callsExternal) ||
    (q.where !== undefined && callsExternal(q.where)) ||
    (q.from?.k === 'expr' && callsExternal(q.from.expr))
  );
}

function checkVersion(version: string): void {
  if (version === SQL_VERSION_2016) return;
  const at = { offset: 0, line: 1, column: 1 };
  if (version === DEFAULT_AWS_SQL_VERSION) {
    throw new SqlParseError(
      `SQL version ${DEFAULT_AWS_SQL_VERSION} (AWS's default when awsIotSqlVersion is omitted) is not emulated; ` +
        `set awsIotSqlVersion to ${SQL_VERSION_2016} in the stack`,
      at,
    );
  }
  throw new SqlParseError(
    `SQL version '${version}' is not emulated; the local rules engine runs only ${SQL_VERSION_2016}, so set awsIotSqlVersion to it`,
    at,
  );
}

/** Parses the payload: JSON when it parses, otherwise raw bytes for `*`. */
export function parsePayload(payload: Buffer): SqlValue {
  if (payload.length === 0) return new RawPayload(payload);
  try {
    return JSON.parse(payload.toString('utf8'));
  } catch {
    return new RawPayload(payload);
  }
}

function functionContext(message: RuleMessage, ctx: EvaluationContext): FunctionContext {
  return {
    topic: message.topic,
    timestamp: message.timestamp,
    accountId: ctx.accountId,
    payload: message.payload,
    newUuid: ctx.newUuid ?? randomUUID,
    ...(message.clientId !== undefined ? { clientId: message.clientId } : {}),
    ...(message.principal !== undefined ? { principal: message.principal } : {}),
    ...(message.sourceIp !== undefined ? { sourceIp: message.sourceIp } : {}),
  };
}

function* evaluateQuery(query: Query, message: RuleMessage, ctx: EvaluationContext): Evaluating<Evaluation> {
  const scope: Scope = {
    fn: functionContext(message, ctx),
    document: parsePayload(message.payload),
    variables: new Map(),
  };
  yield* evaluateSets(query, scope);
  if (!(yield* whereMatches(query, scope))) return { matched: false, variables: scope.variables };
  const output = yield* project(query, scope);
  return { matched: true, output: stripUndefined(output), variables: scope.variables };
}

/** The bytes an action sends for a SELECT output ("SELECT clause": Undefined alone is empty). */
export function serializeOutput(output: unknown): Buffer {
  if (Buffer.isBuffer(output)) return output;
  return Buffer.from(serialize(output), 'utf8');
}

const templateCache = new Map<string, CompiledTemplate>();

/**
 * Substitution template (`${expr}` in action fields), evaluated separately from SELECT, so
 * AS aliases are not visible but payload fields, functions and SET variables are (AWS IoT
 * developer guide, "Substitution templates"). Pass the rule's evaluation to reuse its SET
 * values, and `external` to make the template's external calls. Throws SqlParseError for a
 * template that does not parse; rejects when it cannot be evaluated.
 */
export async function evaluateTemplate(
  template: string,
  message: RuleMessage,
  compiled: CompiledRule,
  options: {
    readonly accountId?: string;
    readonly evaluation?: Evaluation;
    readonly newUuid?: () => string;
    readonly external?: (call: ExternalCall) => Promise<unknown>;
  } = {},
): Promise<string> {
  const key = `${[...compiled.variableNames].join(',')}\u0000${template}`;
  let tpl = templateCache.get(key);
  if (!tpl) {
    tpl = compileTemplate(template, compiled.variableNames);
    if (templateCache.size > 1000) templateCache.clear();
    templateCache.set(key, tpl);
  }
  const ctx: EvaluationContext = {
    accountId: options.accountId ?? '000000000000',
    ...(options.newUuid ? { newUuid: options.newUuid } : {}),
    ...(options.external ? { external: options.external } : {}),
  };
  const scope: Scope = {
    fn: functionContext(message, ctx),
    document: parsePayload(message.payload),
    variables: new Map(options.evaluation?.variables ?? []),
  };
  return runAsync(
    renderTemplate(tpl, (expr: Expr) => evaluate(expr, scope)),
    externalCaller(ctx),
  );
}
