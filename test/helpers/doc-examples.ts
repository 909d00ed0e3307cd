/**
 * The command examples of the project's documentation, as the docs test runs them: every
 * fenced block tagged `sh`, `bash`, `shell` or `console` in README.md and docs/*.md (a new
 * document or block is picked up without touching the test).
 *
 * Marks, visible in the rendered document because they are the block's own first line:
 * - `# Needs an AWS account...`: the block is not run (it talks to AWS);
 * - `# On the device...`: the block runs on a device, not on the checkout (and may need the
 *   npm registry there), so it is not run either.
 * A command whose own comment says `Ctrl-C` (for example `npx zonectl local up   # runs until
 * Ctrl-C`) runs until it is interrupted, in a terminal of its own: the test starts it, waits
 * until it prints a line with "Ctrl-C" (every such zonectl command does when it is ready), runs
 * the commands after it, and interrupts it at the end of the document, expecting a clean exit.
 * A command that starts the same program again (`npm start -- --headless` after
 * `npm ci && npm start`, a second `local up`) interrupts it first, as the user stops the demo
 * before running it another way: two demos on one state dir are not an example.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fromMarkdown } from 'mdast-util-from-markdown';

export const COMMAND_LANGUAGES: ReadonlySet<string> = new Set(['sh', 'bash', 'shell', 'console']);

/** The first-line marks of a block that is not run here: it needs an AWS account, or a device. */
export const SKIP_MARK = /^#\s*(Needs an AWS account|On the device)\b/i;

export interface DocCommand {
  /** 1-based line of the command in its document. */
  readonly line: number;
  /** The command as written, continuation lines joined. */
  readonly text: string;
  /** Runs until Ctrl-C (its comment says so). */
  readonly untilInterrupted: boolean;
}

export interface DocBlock {
  /** Path relative to the repository root. */
  readonly file: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  readonly language: string;
  /** The mark that keeps the block from running, as written. */
  readonly skippedBecause?: string;
  readonly commands: readonly DocCommand[];
}

/** The documents whose examples must run: README.md, then docs/*.md in name order. */
export function documentedFiles(root: string): string[] {
  const docs = readdirSync(join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`);
  return ['README.md', ...docs];
}

/** Where a `#` comment starts in a shell line (outside quotes, at the start of a word), or -1. */
export function commentStart(line: string): number {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === '\\' && quote === '"') i++;
      else if (c === quote) quote = undefined;
    } else if (c === '\\') i++;
    else if (c === "'" || c === '"') quote = c;
    else if (c === '#' && (i === 0 || /\s/.test(line[i - 1]!))) return i;
  }
  return -1;
}

/** Splits a block into commands: one per line, a trailing `\` joining the next line. */
export function commandsOf(code: string, firstLine: number): DocCommand[] {
  const commands: DocCommand[] = [];
  const lines = code.split('\n');
  let pending: { line: number; parts: string[] } | undefined;
  lines.forEach((raw, i) => {
    const line = firstLine + i;
    if (!pending && (raw.trim() === '' || raw.trimStart().startsWith('#'))) return;
    const current = pending ?? { line, parts: [] };
    if (raw.trimEnd().endsWith('\\')) {
      current.parts.push(raw.trimEnd().slice(0, -1));
      pending = current;
      return;
    }
    current.parts.push(raw);
    pending = undefined;
    const text = current.parts.join(' ').trim();
    const at = commentStart(text);
    const comment = at >= 0 ? text.slice(at) : '';
    commands.push({ line: current.line, text, untilInterrupted: /Ctrl-C/i.test(comment) });
  });
  return commands;
}

/**
 * The program a command line starts, for telling whether two commands run the same thing: its
 * words up to the first option or comment, after a leading `npm ci &&` (`npm start`,
 * `npx zonectl local up`, `npx zonectl device run hq-lobby-climate`).
 */
export function programOf(text: string): string {
  const words = text
    .replace(/^\s*npm\s+ci\s*&&\s*/, '')
    .trim()
    .split(/\s+/);
  const end = words.findIndex((w) => w.startsWith('-') || w.startsWith('#'));
  return (end < 0 ? words : words.slice(0, end)).join(' ');
}

/** The command blocks of one Markdown document. */
export function docBlocks(root: string, file: string): DocBlock[] {
  const tree = fromMarkdown(readFileSync(join(root, file), 'utf8'));
  const blocks: DocBlock[] = [];
  const visit = (node: { type: string; children?: unknown[] } & Record<string, unknown>) => {
    if (node.type === 'code') {
      const language = String(node.lang ?? '');
      if (!COMMAND_LANGUAGES.has(language)) return;
      const value = String(node.value);
      const line = (node.position as { start: { line: number } }).start.line;
      const first = value.split('\n')[0] ?? '';
      blocks.push({
        file,
        line,
        language,
        ...(SKIP_MARK.test(first) ? { skippedBecause: first.replace(/^#\s*/, '') } : {}),
        commands: commandsOf(value, line + 1),
      });
      return;
    }
    for (const child of (node.children ?? []) as Array<typeof node>) visit(child);
  };
  visit(tree as unknown as { type: string; children?: unknown[] });
  return blocks;
}
