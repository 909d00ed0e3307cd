import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { recordingLogger, StateFileError } from '../../../local/common';
import type { StoredShadow } from '../../../local/shadow/document';
import { CLASSIC, SHADOW_CHECKPOINT_FILE, SHADOW_LOG_FILE, ShadowStore } from '../../../local/shadow/store';

/**
 * The shadow store on disk: one appended record per change (group commit), a checkpoint now and
 * then, and the files of the earlier one-file-per-thing layout read and moved into it. What
 * these pin: a change is one log line and no file rewrite; everything comes back after a
 * restart, through a checkpoint, a damaged checkpoint or a damaged log line; the earlier
 * layout's shadows are kept.
 */
const dirs: string[] = [];
const stores: ShadowStore[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'zonectl-shadow-store-'));
  dirs.push(d);
  return join(d, 'shadow');
}

async function open(dir: string, logger = recordingLogger()): Promise<ShadowStore> {
  const s = await ShadowStore.open(dir, logger);
  stores.push(s);
  return s;
}

async function reopen(dir: string, store: ShadowStore, logger = recordingLogger()): Promise<ShadowStore> {
  await store.close();
  stores.splice(stores.indexOf(store), 1);
  return open(dir, logger);
}

const shadow = (version: number, temperature: number): StoredShadow => ({
  reported: { temperature },
  metadata: { reported: { temperature: { timestamp: 1_700_000_000 + version } } },
  version,
  timestamp: 1_700_000_000 + version,
  deleted: false,
});

const logLines = (dir: string) =>
  readFileSync(join(dir, SHADOW_LOG_FILE), 'utf8').split('\n').filter(Boolean).length;

describe('shadow store', () => {
  it('appends one record per change, rewrites no file, and has every shadow after a restart', async () => {
    const dir = tempDir();
    let store = await open(dir);
    await Promise.all(
      Array.from({ length: 50 }, (_, i) => store.put(`thing-${i}`, CLASSIC, shadow(1, 20 + i))),
    );
    await store.put('thing-7', 'settings', shadow(1, 5));
    await store.put('thing-7', CLASSIC, shadow(2, 99));
    expect(logLines(dir)).toBe(52);
    expect(readdirSync(dir).sort()).toEqual([SHADOW_LOG_FILE]);

    store = await reopen(dir, store);
    expect(store.get('thing-7', CLASSIC)).toEqual(shadow(2, 99));
    expect(store.get('thing-49', CLASSIC)?.reported).toEqual({ temperature: 69 });
    expect(store.namedShadows('thing-7')).toEqual(['settings']);
    expect(store.namedShadows('thing-8')).toEqual([]);
    expect(store.get('nobody', CLASSIC)).toBeUndefined();
  });

  it('keeps every shadow through a checkpoint, and through a damaged checkpoint with the log since its last-good copy', async () => {
    const dir = tempDir();
    let store = await open(dir);
    for (let i = 0; i < 10; i++) await store.put(`thing-${i}`, CLASSIC, shadow(1, i));
    await store.checkpoint();
    for (let i = 0; i < 10; i++) await store.put(`thing-${i}`, CLASSIC, shadow(2, 100 + i));
    await store.checkpoint();
    // The log keeps the changes since the last-good checkpoint.
    expect(logLines(dir)).toBe(10);
    await store.put('thing-3', CLASSIC, shadow(3, 333));
    await store.close();
    stores.splice(stores.indexOf(store), 1);

    writeFileSync(join(dir, SHADOW_CHECKPOINT_FILE), '{"things": {"thing-0": ');
    const logger = recordingLogger();
    store = await open(dir, logger);
    expect(logger.lines.join('\n')).toMatch(/damaged.*Restored its last good copy/);
    for (let i = 0; i < 10; i++) {
      expect(store.get(`thing-${i}`, CLASSIC)?.version).toBe(i === 3 ? 3 : 2);
    }
    expect(store.get('thing-3', CLASSIC)?.reported).toEqual({ temperature: 333 });
  });

  it('skips and quarantines a damaged log line, naming it, and keeps the others', async () => {
    const dir = tempDir();
    let store = await open(dir);
    await store.put('a', CLASSIC, shadow(1, 1));
    await store.put('b', CLASSIC, shadow(1, 2));
    await store.close();
    stores.splice(stores.indexOf(store), 1);
    const path = join(dir, SHADOW_LOG_FILE);
    const [first, second] = readFileSync(path, 'utf8').split('\n');
    writeFileSync(path, `${first}\n${second!.replace('"temperature":2', '"temperature":3')}\n`);
    const logger = recordingLogger();
    store = await open(dir, logger);
    expect(store.get('a', CLASSIC)?.reported).toEqual({ temperature: 1 });
    expect(store.get('b', CLASSIC)).toBeUndefined();
    expect(logger.lines.join('\n')).toMatch(/shadows\.log.*line 2: checksum mismatch/);
    expect(existsSync(`${path}.quarantine`)).toBe(true);
  });

  it('reads the one-file-per-thing layout, moves it into the checkpoint and removes the old files', async () => {
    const dir = tempDir();
    mkdirSync(dir, { recursive: true });
    const old = { shadows: { [CLASSIC]: shadow(4, 21), lights: shadow(2, 0) } };
    writeFileSync(join(dir, 'hq-lobby-climate.json'), JSON.stringify(old));
    writeFileSync(join(dir, 'hq-lobby-climate.json.last-good'), JSON.stringify(old));
    // Only the last-good copy left of this one: it is restored as before.
    writeFileSync(
      join(dir, 'hq-roof-light.json.last-good'),
      JSON.stringify({ shadows: { [CLASSIC]: shadow(9, 1) } }),
    );
    const logger = recordingLogger();
    let store = await open(dir, logger);
    expect(store.get('hq-lobby-climate', CLASSIC)?.version).toBe(4);
    expect(store.namedShadows('hq-lobby-climate')).toEqual(['lights']);
    expect(store.get('hq-roof-light', CLASSIC)?.version).toBe(9);
    expect(logger.lines.join('\n')).toMatch(/moved the shadows of 2 thing\(s\)/);
    expect(logger.lines.join('\n')).not.toMatch(/is missing although the state dir was used/);
    expect(readdirSync(dir).sort()).toEqual(
      [SHADOW_CHECKPOINT_FILE, `${SHADOW_CHECKPOINT_FILE}.last-good`, SHADOW_LOG_FILE].sort(),
    );

    await store.put('hq-lobby-climate', CLASSIC, shadow(5, 22));
    store = await reopen(dir, store);
    expect(store.get('hq-lobby-climate', CLASSIC)?.version).toBe(5);
    expect(store.get('hq-lobby-climate', 'lights')?.version).toBe(2);
  });

  it('refuses to start on a file of the earlier layout that neither it nor its copy can restore', async () => {
    const dir = tempDir();
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'hq-lobby-climate.json'), 'null');
    await expect(ShadowStore.open(dir, recordingLogger())).rejects.toThrow(StateFileError);
    await expect(ShadowStore.open(dir, recordingLogger())).rejects.toThrow(/hq-lobby-climate\.json/);
  });

  it('reports a log that went missing from a used store as lost changes', async () => {
    const dir = tempDir();
    const store = await open(dir);
    await store.put('a', CLASSIC, shadow(1, 1));
    await store.close();
    stores.splice(stores.indexOf(store), 1);
    rmSync(join(dir, SHADOW_LOG_FILE));
    const logger = recordingLogger();
    await open(dir, logger);
    expect(logger.lines.join('\n')).toMatch(
      /shadows\.log.*is missing although the state dir was used before/,
    );
  });
});
