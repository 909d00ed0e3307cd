import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { recordingLogger } from '../../../local/common/log';
import { StateFile, StateFileError, type StateFileOptions } from '../../../local/common/state-file';

const Schema = z.object({ things: z.record(z.string(), z.object({ version: z.number() })) });
type Doc = z.infer<typeof Schema>;

let dir: string;
let path: string;
let logger: ReturnType<typeof recordingLogger>;

const options = (whenUnusable: 'refuse' | 'start-empty' = 'refuse'): StateFileOptions<Doc> => ({
  path,
  schema: Schema,
  initial: () => ({ things: {} }),
  what: 'the test registry',
  logger,
  whenUnusable,
});

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'zonectl-state-file-'));
  path = join(dir, 'registry.json');
  logger = recordingLogger();
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Saves two versions, so the file holds v2 and its last-good copy v1. */
function twoVersions(): void {
  const file = StateFile.open(options());
  file.update((v) => {
    v.things.a = { version: 1 };
  });
  file.update((v) => {
    v.things.a = { version: 2 };
  });
}

describe('StateFile', () => {
  it('starts from the initial value when there is no file, and reads back what it saved', () => {
    const file = StateFile.open(options());
    expect(file.value).toEqual({ things: {} });
    file.update((v) => {
      v.things.a = { version: 1 };
    });
    expect(StateFile.open(options()).value).toEqual({ things: { a: { version: 1 } } });
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('keeps the version a save replaces as the last-good copy', () => {
    twoVersions();
    expect(JSON.parse(readFileSync(`${path}.last-good`, 'utf8'))).toEqual({ things: { a: { version: 1 } } });
  });

  it('restores a truncated file from its last-good copy, keeps the damaged one aside and says so', () => {
    twoVersions();
    writeFileSync(path, '{"things":{"a":{"vers');
    const file = StateFile.open(options());
    expect(file.value).toEqual({ things: { a: { version: 1 } } });
    const line = logger.lines.find((l) => l.includes(path))!;
    expect(line).toMatch(/is damaged: not valid JSON/);
    expect(line).toMatch(/Restored its last good copy of .*changes made after that are lost/);
    const aside = readdirSync(dir).find((f) => f.startsWith('registry.json.damaged-'));
    expect(aside).toBeDefined();
    expect(line).toContain(aside!);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({ things: { a: { version: 1 } } });
  });

  it('names what is wrong with a document of the wrong shape, such as null', () => {
    twoVersions();
    writeFileSync(path, 'null');
    StateFile.open(options());
    expect(logger.lines.some((l) => /not the expected shape: the document: .*object/i.test(l))).toBe(true);
    writeFileSync(path, '{"things":{"a":{"version":"two"}}}');
    StateFile.open(options());
    expect(logger.lines.some((l) => l.includes('things.a.version'))).toBe(true);
  });

  it('refuses to start from a damaged file without a last-good copy, naming the file and the way out', () => {
    writeFileSync(path, '{"things": ');
    let caught: unknown;
    try {
      StateFile.open(options('refuse'));
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(StateFileError);
    expect((caught as Error).message).toContain(path);
    expect((caught as Error).message).toMatch(/not valid JSON.*repair the file .*or move it away/);
    expect(readFileSync(path, 'utf8')).toBe('{"things": ');
  });

  it('starts empty from a damaged file without a last-good copy when asked to, keeping the damaged file', () => {
    writeFileSync(path, '[1, 2');
    const file = StateFile.open(options('start-empty'));
    expect(file.value).toEqual({ things: {} });
    expect(logger.lines.some((l) => l.includes('Started the test registry empty'))).toBe(true);
    expect(readdirSync(dir).some((f) => f.startsWith('registry.json.damaged-'))).toBe(true);
  });

  it('restores a removed file from its last-good copy', () => {
    twoVersions();
    rmSync(path);
    expect(StateFile.open(options()).value).toEqual({ things: { a: { version: 1 } } });
    expect(logger.lines.some((l) => l.includes('is missing; restored its last good copy'))).toBe(true);
    expect(existsSync(path)).toBe(true);
  });
});
