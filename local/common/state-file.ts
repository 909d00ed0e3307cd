/**
 * A state file of the local cloud: one JSON document, held in memory and written whole,
 * atomically (temp file, fsync, rename, directory fsync), with the previous version kept as
 * `<file>.last-good`. Reading checks the document against a schema, so a hand-edited or damaged
 * file is found at start, named with its path and what is wrong, and never surfaces later as a
 * TypeError deep inside a service.
 *
 * When the file is damaged (not JSON, truncated, `null`, the wrong shape):
 * - with a usable last-good copy, the damaged file is moved aside to `<file>.damaged-<time>`
 *   and the last-good copy takes its place; the log says so and what was lost (the changes of
 *   the last write);
 * - without one, `whenUnusable: 'refuse'` stops the start with a StateFileError that says how
 *   to recover, and `'start-empty'` moves the damaged file aside and starts from the initial
 *   value, saying what that lost.
 * A missing file with a last-good copy is restored from the copy too; to start a store afresh,
 * remove the file and its `.last-good` copy.
 */
import { existsSync, readFileSync, renameSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import type { z } from 'zod';
import { LAST_GOOD_SUFFIX, writeFileAtomic } from './durable-fs';
import type { LocalLogger } from './log';

/** A state file the cloud cannot use and will not replace on its own. */
export class StateFileError extends Error {
  override readonly name = 'StateFileError';
}

export interface StateFileOptions<T> {
  readonly path: string;
  /** The document's shape; anything else is damage. */
  readonly schema: z.ZodType<T>;
  readonly initial: () => T;
  /** What the file holds, for messages: "the IoT registry", "the shadows of thing x". */
  readonly what: string;
  readonly logger: LocalLogger;
  /** When neither the file nor its last-good copy can be used: refuse to start, or start empty. */
  readonly whenUnusable: 'refuse' | 'start-empty';
  /** File mode, e.g. 0o600. */
  readonly mode?: number;
  /** What restoring the last-good copy means for the changes since; default: they are lost. */
  readonly restoreNote?: string;
}

type ReadOutcome<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly missing: boolean; readonly problem: string };

/** Why a document does not fit its schema, in a line: the first issues with their paths. */
export function describeSchemaIssues(error: z.ZodError): string {
  const issues = error.issues.slice(0, 3).map((i) => {
    const path = i.path.map(String).join('.');
    return `${path === '' ? 'the document' : path}: ${i.message}`;
  });
  const more = error.issues.length > 3 ? ` (and ${error.issues.length - 3} more)` : '';
  return `${issues.join('; ')}${more}`;
}

/** Reads and validates a JSON document; never throws. */
export function readJsonDocument<T>(path: string, schema: z.ZodType<T>): ReadOutcome<T> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { ok: false, missing: true, problem: 'the file does not exist' };
    return { ok: false, missing: false, problem: `cannot be read (${(err as Error).message})` };
  }
  if (text.trim() === '') return { ok: false, missing: false, problem: 'the file is empty' };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return { ok: false, missing: false, problem: `not valid JSON (${(err as Error).message})` };
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    return {
      ok: false,
      missing: false,
      problem: `not the expected shape: ${describeSchemaIssues(parsed.error)}`,
    };
  }
  return { ok: true, value: parsed.data };
}

const stamp = () => new Date().toISOString().replace(/[:.]/g, '-');

/** Moves a damaged file aside; returns where it went. */
export function moveAside(path: string): string {
  const aside = `${path}.damaged-${stamp()}`;
  renameSync(path, aside);
  return aside;
}

export class StateFile<T> {
  private constructor(
    readonly path: string,
    public value: T,
    private readonly mode: number | undefined,
  ) {}

  /** Reads the file (or its last-good copy), validating it; see the module comment for damage. */
  static open<T>(options: StateFileOptions<T>): StateFile<T> {
    const { path, schema, what, logger } = options;
    const main = readJsonDocument(path, schema);
    if (main.ok) return new StateFile(path, main.value, options.mode);

    const lastGoodPath = `${path}${LAST_GOOD_SUFFIX}`;
    const lastGood = existsSync(lastGoodPath) ? readJsonDocument(lastGoodPath, schema) : undefined;
    if (main.missing && !lastGood) return new StateFile(path, options.initial(), options.mode);

    if (lastGood?.ok) {
      const when = statSync(lastGoodPath).mtime.toISOString();
      const file = new StateFile(path, lastGood.value, options.mode);
      if (main.missing) {
        logger.error(
          `state file ${path} (${what}) is missing; restored its last good copy of ${when}. To start ${what} afresh, remove ${basename(lastGoodPath)} too`,
        );
      } else {
        const aside = moveAside(path);
        logger.error(
          `state file ${path} (${what}) is damaged: ${main.problem}. Restored its last good copy of ${when}; ${options.restoreNote ?? 'changes made after that are lost'}. The damaged file is kept as ${aside}`,
        );
      }
      file.save();
      return file;
    }

    const copyNote = lastGood
      ? ` Its last good copy ${lastGoodPath} is damaged too: ${lastGood.problem}.`
      : '';
    if (options.whenUnusable === 'refuse') {
      throw new StateFileError(
        `state file ${path} (${what}) ${main.missing ? 'is missing' : `is damaged: ${main.problem}`}.${copyNote} ` +
          `The local cloud will not start without it rather than lose ${what}: repair the file (or restore it from a backup), ` +
          `or move it away to start ${what} empty.`,
      );
    }
    const aside = main.missing ? undefined : moveAside(path);
    logger.error(
      `state file ${path} (${what}) is damaged: ${main.problem}.${copyNote} Started ${what} empty${aside ? `; the damaged file is kept as ${aside}` : ''}`,
    );
    const file = new StateFile(path, options.initial(), options.mode);
    file.save();
    return file;
  }

  /**
   * Writes the value atomically; the version it replaces becomes the last-good copy. The first
   * version of a file is its own last-good copy too, so a file written once (an instance's
   * settings, a secret) can be restored when it is damaged.
   */
  save(): void {
    writeFileAtomic(this.path, JSON.stringify(this.value), {
      keepLastGood: true,
      ...(this.mode !== undefined ? { mode: this.mode } : {}),
    });
    const lastGood = `${this.path}${LAST_GOOD_SUFFIX}`;
    if (!existsSync(lastGood)) {
      writeFileAtomic(
        lastGood,
        JSON.stringify(this.value),
        this.mode !== undefined ? { mode: this.mode } : {},
      );
    }
  }

  update(change: (value: T) => void): void {
    change(this.value);
    this.save();
  }
}
