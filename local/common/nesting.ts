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

/**
 * The nesting depth of a JSON-like value, counted without recursion: a scalar is 0, an empty
 * array or object 1, else 1 + its deepest member. Stops counting once past `limit` (returns
 * `limit + 1`), so a huge value costs no more than its first too-deep path.
 */
export function nestingDepth(value: unknown, limit = Number.POSITIVE_INFINITY): number {
  let deepest = 0;
  const stack: Array<{ v: unknown; d: number }> = [{ v: value, d: 0 }];
  while (stack.length > 0) {
    const { v, d } = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    const here = d + 1;
    if (here > deepest) deepest = here;
    if (deepest > limit) return limit + 1;
    const children = Array.isArray(v) ? v : Object.values(v as object);
    for (const c of children) if (c !== null && typeof c === 'object') stack.push({ v: c, d: here });
  }
  return deepest;
}

/** Whether an error is V8's stack exhaustion ("Maximum call stack size exceeded"). */
export const isStackOverflow = (err: unknown): boolean =>
  err instanceof RangeError && /call stack/i.test(err.message);
