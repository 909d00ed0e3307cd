/**
 * Guards against input nested deeply enough to exhaust the stack of a recursive walker (a
 * parser, an evaluator, a validator): a request that does so must be refused with a 400 naming
 * the limit, never answered with a 500 or left to take the process down.
 */

/**
 * How deep (in JSON-like levels of its syntax tree) a rule SQL statement or a Timestream query may
 * be: far beyond any hand-written query, well within the stack of the recursive walkers.
 */
export const MAX_SYNTAX_DEPTH = 512;

export { nestingDepth } from '../../contracts/nesting';

/** Whether an error is V8's stack exhaustion ("Maximum call stack size exceeded"). */
export const isStackOverflow = (err: unknown): boolean =>
  err instanceof RangeError && /call stack/i.test(err.message);
