/** How deeply a JSON-like value nests, for the guards that refuse input too deep to walk. */

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
