/** How the docs test reads the documentation's command examples (test/helpers/doc-examples.ts). */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commandsOf, commentStart, docBlocks, programOf } from '../helpers/doc-examples';

describe('documentation command examples', () => {
  it('joins continuation lines and sees a Ctrl-C comment as a command that runs until interrupted', () => {
    const code = [
      '# a comment line is not a command',
      'npx zonectl local up --assembly cdk.out   # runs until Ctrl-C',
      'aws iot list-things \\',
      '    --endpoint-url "$ZONECTL_API"',
      '',
      "echo '# not a comment' # but this is",
    ].join('\n');
    expect(commandsOf(code, 10)).toEqual([
      {
        line: 11,
        text: 'npx zonectl local up --assembly cdk.out   # runs until Ctrl-C',
        untilInterrupted: true,
      },
      { line: 12, text: 'aws iot list-things      --endpoint-url "$ZONECTL_API"', untilInterrupted: false },
      { line: 15, text: "echo '# not a comment' # but this is", untilInterrupted: false },
    ]);
  });

  it('tells which program a command starts, so a second start of it stops the first', () => {
    expect(programOf('npm ci && npm start        # the whole pipeline; Ctrl-C stops it')).toBe('npm start');
    expect(programOf('npm start -- --headless --duration 30')).toBe('npm start');
    expect(programOf('npx zonectl local up --assembly cdk.out   # runs until Ctrl-C')).toBe(
      'npx zonectl local up',
    );
    expect(programOf('npx zonectl local env')).not.toBe(programOf('npx zonectl local up'));
  });

  it('finds a comment only outside quotes and at the start of a word', () => {
    expect(commentStart('a "#x" b#c # d')).toBe(11);
    expect(commentStart("echo 'it''s' #")).toBe(13);
    expect(commentStart('no comment here')).toBe(-1);
  });

  it('reads sh blocks with their line, skips other languages, and keeps the AWS-account mark', () => {
    const dir = mkdtempSync(join(tmpdir(), 'zonectl-docs-'));
    try {
      writeFileSync(
        join(dir, 'doc.md'),
        [
          '# Title',
          '',
          '```sh',
          'npx zonectl onboard hq-lobby-climate',
          '```',
          '',
          '```json',
          '{"not": "a command"}',
          '```',
          '',
          '```sh',
          '# Needs an AWS account (credentials and a bootstrapped region)',
          'npx cdk deploy',
          '```',
        ].join('\n'),
      );
      expect(docBlocks(dir, 'doc.md')).toEqual([
        {
          file: 'doc.md',
          line: 3,
          language: 'sh',
          commands: [{ line: 4, text: 'npx zonectl onboard hq-lobby-climate', untilInterrupted: false }],
        },
        {
          file: 'doc.md',
          line: 11,
          language: 'sh',
          skippedBecause: 'Needs an AWS account (credentials and a bootstrapped region)',
          commands: [{ line: 13, text: 'npx cdk deploy', untilInterrupted: false }],
        },
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
