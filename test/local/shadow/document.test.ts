import { describe, expect, it } from 'vitest';
import {
  applyDelete,
  applyUpdate,
  computeDelta,
  getDocument,
  parseUpdateRequest,
  ShadowError,
  type StoredShadow,
} from '../../../local/shadow';

const T = 1_700_000_000;
const update = (current: StoredShadow | undefined, doc: object, now = T) =>
  applyUpdate(current, parseUpdateRequest(JSON.stringify(doc)), now);
const rejection = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    if (err instanceof ShadowError) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error('expected a ShadowError');
};

describe('shadow documents', () => {
  it('starts at version 1 and stamps metadata in epoch seconds', () => {
    const { shadow, accepted } = update(undefined, {
      state: { desired: { heating: 'on' } },
      clientToken: 'c1',
    });
    expect(shadow.version).toBe(1);
    expect(accepted).toEqual({
      state: { desired: { heating: 'on' } },
      metadata: { desired: { heating: { timestamp: T } } },
      version: 1,
      timestamp: T,
      clientToken: 'c1',
    });
  });

  it('merges objects recursively, replaces arrays and deletes keys set to null', () => {
    const first = update(undefined, {
      state: { reported: { a: { x: 1, y: 2 }, list: [1, 2, 3], gone: true } },
    });
    const { shadow } = update(
      first.shadow,
      { state: { reported: { a: { y: 3 }, list: [9], gone: null } } },
      T + 5,
    );
    expect(shadow.reported).toEqual({ a: { x: 1, y: 3 }, list: [9] });
    expect(shadow.metadata.reported).toEqual({
      a: { x: { timestamp: T }, y: { timestamp: T + 5 } },
      list: [{ timestamp: T + 5 }],
    });
    expect(shadow.version).toBe(2);
  });

  it('removes a whole section when it is set to null', () => {
    const first = update(undefined, { state: { desired: { a: 1 }, reported: { a: 1 } } });
    const { shadow } = update(first.shadow, { state: { desired: null } });
    expect(shadow.desired).toBeUndefined();
    expect(shadow.reported).toEqual({ a: 1 });
  });

  it('clears the state but keeps counting versions on {"state": null}', () => {
    const first = update(undefined, { state: { desired: { a: 1 } } });
    const { shadow, accepted } = update(first.shadow, { state: null });
    expect(accepted).toMatchObject({ state: null, version: 2 });
    expect(getDocument(shadow, undefined, T)).toEqual({ state: {}, metadata: {}, version: 2, timestamp: T });
  });

  it('computes the delta from desired keys that differ from reported, arrays whole', () => {
    expect(
      computeDelta(
        { heating: 'on', nested: { a: 1, b: 2 }, list: [1, 2], same: 5 },
        { heating: 'off', nested: { a: 1, b: 3 }, list: [1], same: 5, extra: true },
      ),
    ).toEqual({ heating: 'on', nested: { b: 2 }, list: [1, 2] });
    expect(computeDelta({ a: 1 }, { a: 1 })).toBeUndefined();
  });

  it('announces a delta with desired metadata when desired and reported differ', () => {
    const first = update(undefined, { state: { reported: { heating: 'off', fan: 'low' } } });
    const outcome = update(first.shadow, { state: { desired: { heating: 'on', fan: 'low' } } }, T + 1);
    expect(outcome.delta).toEqual({
      state: { heating: 'on' },
      metadata: { heating: { timestamp: T + 1 } },
      version: 2,
      timestamp: T + 1,
    });
  });

  it('returns delta in GET only when it is not empty', () => {
    const { shadow } = update(undefined, { state: { desired: { a: 1 }, reported: { a: 2 } } });
    expect(getDocument(shadow, 'tok', T)).toMatchObject({
      state: { desired: { a: 1 }, reported: { a: 2 }, delta: { a: 1 } },
      clientToken: 'tok',
    });
    const settled = update(shadow, { state: { reported: { a: 1 } } }).shadow;
    expect(getDocument(settled, undefined, T)).not.toHaveProperty('state.delta');
  });

  it('builds update/documents with the previous and current shadow', () => {
    const first = update(undefined, { state: { reported: { a: 1 } } });
    const { documents } = update(first.shadow, { state: { reported: { a: 2 } } }, T + 2);
    expect(documents).toEqual({
      previous: {
        state: { reported: { a: 1 } },
        metadata: { reported: { a: { timestamp: T } } },
        version: 1,
      },
      current: {
        state: { reported: { a: 2 } },
        metadata: { reported: { a: { timestamp: T + 2 } } },
        version: 2,
      },
      timestamp: T + 2,
    });
  });

  it('rejects an update whose version is not the current one with 409', () => {
    const first = update(undefined, { state: { reported: { a: 1 } } });
    expect(rejection(() => update(first.shadow, { state: { reported: { a: 2 } }, version: 7 }))).toEqual({
      code: 409,
      message: 'Version conflict',
    });
    expect(update(first.shadow, { state: { reported: { a: 2 } }, version: 1 }).shadow.version).toBe(2);
  });

  it('keeps the version counter across a delete', () => {
    const first = update(undefined, { state: { reported: { a: 1 } } });
    const second = update(first.shadow, { state: { reported: { a: 2 } } });
    const deleted = applyDelete(second.shadow, 'commands', undefined, T);
    expect(deleted.accepted).toEqual({ version: 2, timestamp: T });
    expect(update(deleted.shadow, { state: { reported: { b: 1 } } }).shadow).toMatchObject({
      version: 3,
      reported: { b: 1 },
    });
  });

  it('rejects deleting a shadow that does not exist with 404', () => {
    expect(rejection(() => applyDelete(undefined, 'commands', undefined, T))).toEqual({
      code: 404,
      message: "No shadow exists with name: 'commands'",
    });
  });

  it.each([
    ['not json', 'Invalid JSON'],
    ['{"clientToken":"x"}', 'Missing required node: state'],
    ['{"state":5}', 'State node must be an object'],
    ['{"state":{"desired":[1]}}', 'Desired node must be an object'],
    ['{"state":{"reported":"x"}}', 'Reported node must be an object'],
    ['{"state":{"delta":{}}}', "State contains an invalid node: 'delta'"],
    ['{"state":{"desired":{}},"version":"1"}', 'Invalid version'],
    [`{"state":{"desired":{}},"clientToken":"${'x'.repeat(65)}"}`, 'Invalid clientToken'],
    [
      '{"state":{"desired":{"a":{"b":{"c":{"d":{"e":{"f":{"g":1}}}}}}}}}',
      'JSON contains too many levels of nesting; maximum is 6',
    ],
  ])('rejects the invalid request %s with 400 "%s"', (body, message) => {
    expect(rejection(() => parseUpdateRequest(body))).toEqual({ code: 400, message });
  });

  it.each([
    ['arrays', `{"state":{"desired":{"a":${'['.repeat(200_000)}${']'.repeat(200_000)}}}}`],
    ['objects', `{"state":{"reported":${'{"a":'.repeat(200_000)}1${'}'.repeat(200_000)}}}`],
  ])('rejects 200,000 nested %s with 400, without a stack overflow', (_what, body) => {
    expect(rejection(() => parseUpdateRequest(body))).toEqual({
      code: 400,
      message: 'JSON contains too many levels of nesting; maximum is 6',
    });
  });

  it('rejects a state larger than 8 KB with 413', () => {
    expect(rejection(() => update(undefined, { state: { reported: { big: 'x'.repeat(8200) } } }))).toEqual({
      code: 413,
      message: 'The payload exceeds the maximum size allowed',
    });
  });
});
