import { describe, expect, it } from 'vitest';
import { isStackOverflow, nestingDepth } from '../../../local/common/nesting';

describe('nestingDepth', () => {
  it.each([
    [1, 0],
    [null, 0],
    [[], 1],
    [{}, 1],
    [{ a: [1, { b: 2 }] }, 3],
    [[[[]], []], 3],
  ])('counts %j as %i levels', (value, depth) => {
    expect(nestingDepth(value)).toBe(depth);
  });

  it('counts a value nested 1,000,000 levels without recursion, stopping past the limit', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 1_000_000; i++) deep = [deep];
    expect(nestingDepth(deep, 10)).toBe(11);
    expect(nestingDepth(deep)).toBe(1_000_000);
  });
});

describe('isStackOverflow', () => {
  it("recognizes V8's stack exhaustion and nothing else", () => {
    const recurse = (n: number): number => recurse(n + 1) + 1;
    let overflow: unknown;
    try {
      recurse(0);
    } catch (err) {
      overflow = err;
    }
    expect(isStackOverflow(overflow)).toBe(true);
    expect(isStackOverflow(new RangeError('Invalid array length'))).toBe(false);
    expect(isStackOverflow(new Error('Maximum call stack size exceeded'))).toBe(false);
  });
});
