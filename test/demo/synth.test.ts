/**
 * The synth cache key: the demo and the end-to-end tests reuse a synthesized assembly only while
 * none of its inputs changed.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SYNTH_INPUTS, synthInputsHash } from '../../demo/synth';

let root: string;
const write = (path: string, text: string) => {
  mkdirSync(join(root, path, '..'), { recursive: true });
  writeFileSync(join(root, path), text);
};

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'zonectl-synth-key-'));
  write('bin/app.ts', 'app');
  write('cdk.json', '{}');
  write('package-lock.json', '{}');
  write('lib/building-stack.ts', 'stack');
  write('lambda/ingest/handler.ts', 'handler');
  write('contracts/topics.ts', 'topics');
  write('csr/hq-lobby-climate.csr.pem', 'csr');
  write('building.json', '{"buildingId":"hq"}');
});

afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

const key = () => synthInputsHash(root, [join(root, 'building.json'), join(root, 'csr')]);

describe('synth cache key', () => {
  it('stays the same while nothing changes', () => {
    expect(key()).toBe(key());
  });

  it.each<[string]>([
    ...SYNTH_INPUTS.filter((p) => p.endsWith('.ts') || p.endsWith('.json')).map((p): [string] => [p]),
    ['lib/building-stack.ts'],
    ['lambda/ingest/handler.ts'],
    ['contracts/topics.ts'],
    ['building.json'],
    ['csr/hq-lobby-climate.csr.pem'],
  ])('changes when %s changes', (path) => {
    const before = key();
    write(path, 'changed');
    expect(key()).not.toBe(before);
  });

  it('changes when a CSR is added', () => {
    const before = key();
    write('csr/hq-lobby-hvac.csr.pem', 'csr');
    expect(key()).not.toBe(before);
  });

  it('changes with the salt the caller adds', () => {
    expect(synthInputsHash(root, [], 'things: a')).not.toBe(synthInputsHash(root, [], 'things: a,b'));
  });

  it('ignores files that are no input', () => {
    const before = key();
    write('README.md', 'docs');
    write('local/cloud.ts', 'local cloud');
    expect(key()).toBe(before);
  });
});
