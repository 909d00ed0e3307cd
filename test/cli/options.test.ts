/**
 * The shared option parsers of cli/options.ts, and the rule they exist for: every option of
 * every zonectl command that takes a value is checked when the command line is read.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildingConfigFile,
  certificateId,
  check,
  checkBuildingConfig,
  directoryToUse,
  existingDirectory,
  existingFile,
  numberIn,
  oneOf,
  port,
  stackName,
  thingName,
} from '../../cli/options';
import { createProgram } from '../../cli/program';
import { failureText } from '../../cli/run';
import { OnboardError } from '../../provisioning/errors';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cli-options-'));
  mkdirSync(join(dir, 'assembly'));
  writeFileSync(join(dir, 'assembly', 'manifest.json'), '{}');
  writeFileSync(join(dir, 'file.txt'), 'x');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The message a parser refuses `value` with. */
function refusal(parse: (value: string) => unknown, value: string): string {
  try {
    parse(value);
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidArgumentError);
    return (err as Error).message;
  }
  throw new Error(`'${value}' was accepted`);
}

describe('numberIn', () => {
  const positive = numberIn({ what: 'a number', min: 0, minExclusive: true, example: 'e.g. 720' });

  it('accepts decimal numbers within the range', () => {
    expect(positive('720')).toBe(720);
    expect(positive('0.5')).toBe(0.5);
    expect(positive(' 3 ')).toBe(3);
  });

  it('refuses text, zero, negatives and what Number() would quietly take', () => {
    for (const value of ['abc', '0', '-1', '', '0x10', '1e3', 'Infinity', 'NaN', '12abc']) {
      expect(refusal(positive, value)).toBe('Expected a number above 0, e.g. 720.');
    }
  });

  it('refuses fractions where a whole number is expected and says the range', () => {
    const seed = numberIn({ what: 'a whole number', min: 0, max: 10, integer: true });
    expect(seed('7')).toBe(7);
    expect(refusal(seed, '1.5')).toBe('Expected a whole number from 0 to 10.');
    expect(refusal(seed, '11')).toBe('Expected a whole number from 0 to 10.');
  });

  it('names an upper bound alone', () => {
    expect(refusal(numberIn({ what: 'a share', max: 1 }), '2')).toBe('Expected a share of at most 1.');
  });
});

describe('the other parsers', () => {
  it('port: 0-65535, whole', () => {
    expect(port('0')).toBe(0);
    expect(port('8883')).toBe(8883);
    for (const v of ['abc', '-1', '65536', '80.5'])
      expect(refusal(port, v)).toMatch(/port number from 0 to 65535/);
  });

  it('oneOf lists the choices', () => {
    const day = oneOf(['mon', 'tue'] as const);
    expect(day('mon')).toBe('mon');
    expect(refusal(day, 'Mon')).toBe('Expected one of mon, tue.');
  });

  it('thing names, certificate ids and stack names follow AWS', () => {
    expect(thingName('hq-lobby-climate')).toBe('hq-lobby-climate');
    expect(refusal(thingName, 'a b')).toMatch(/thing name/);
    expect(refusal(thingName, 'x'.repeat(129))).toMatch(/1-128 characters/);
    expect(certificateId('a'.repeat(64))).toHaveLength(64);
    expect(refusal(certificateId, 'A'.repeat(64))).toMatch(/64 lower-case hexadecimal/);
    expect(stackName('Zonectl-hq')).toBe('Zonectl-hq');
    expect(refusal(stackName, '1stack')).toMatch(/starts with a letter/);
  });

  it('existingFile and existingDirectory say what is missing or wrong', () => {
    expect(existingFile('a file')(join(dir, 'file.txt'))).toBe(join(dir, 'file.txt'));
    expect(refusal(existingFile('a file'), join(dir, 'nope'))).toMatch(
      /a file that exists \(there is no .*nope\)/,
    );
    expect(refusal(existingFile('a file'), dir)).toMatch(/a file, not a directory/);
    expect(existingDirectory('an assembly', 'manifest.json')(join(dir, 'assembly'))).toBe(
      join(dir, 'assembly'),
    );
    expect(refusal(existingDirectory('an assembly', 'manifest.json'), dir)).toMatch(/holding manifest.json/);
  });

  it('directoryToUse takes a folder that exists or can be made, not one under a file', () => {
    expect(directoryToUse('a directory')(join(dir, 'new', 'deeper'))).toBe(join(dir, 'new', 'deeper'));
    expect(refusal(directoryToUse('a directory'), join(dir, 'file.txt'))).toMatch(/not a file/);
    expect(refusal(directoryToUse('a directory'), join(dir, 'file.txt', 'sub'))).toMatch(
      /file.txt is a file, not a directory/,
    );
  });

  it('buildingConfigFile takes a file that exists; checkBuildingConfig checks the whole config and names the bad field', async () => {
    const bad = join(dir, 'bad.json');
    expect(refusal(buildingConfigFile, bad)).toMatch(/Expected a building config file that exists/);
    writeFileSync(bad, JSON.stringify({ buildingId: 'Bad Id!', name: 'x', comfort: {}, zones: [] }));
    expect(buildingConfigFile(bad)).toBe(bad);
    const checked = (path: string) =>
      checkBuildingConfig(path).then(
        () => 'accepted',
        (err: Error) => {
          expect(err).toBeInstanceOf(InvalidArgumentError);
          return err.message;
        },
      );
    expect(await checked(bad)).toMatch(/buildingId: got "Bad Id!"; expected a building id/);
    writeFileSync(bad, '{ not json');
    expect(await checked(bad)).toMatch(/not valid JSON/);
  });

  it('check builds a parser from a test', () => {
    const even = check('an even number', (v) => (Number(v) % 2 === 0 ? Number(v) : undefined));
    expect(even('4')).toBe(4);
    expect(refusal(even, '3')).toBe('Expected an even number.');
  });
});

describe('failureText', () => {
  it('prints an expected error as its message alone', () => {
    expect(failureText(new OnboardError('No thing named "x" in building.json.'))).toBe(
      'No thing named "x" in building.json.',
    );
  });

  it('prints anything else with its name and how to see the stack, not the stack', () => {
    const text = failureText(new TypeError('boom'), false);
    expect(text).toContain('TypeError: boom');
    expect(text).toContain('ZONECTL_DEBUG=1');
    expect(text).not.toMatch(/\n\s+at /);
  });
});

function everyCommand(command: Command): Command[] {
  return [command, ...command.commands.flatMap(everyCommand)];
}

describe('every zonectl command', () => {
  const program = createProgram();

  it('checks the value of every option that takes one', () => {
    const unchecked: string[] = [];
    for (const command of everyCommand(program)) {
      for (const option of command.options) {
        const takesValue = option.required || option.optional;
        if (takesValue && !option.parseArg) unchecked.push(`${command.name()} ${option.flags}`);
      }
    }
    expect(unchecked, 'options whose value no parser checks (use cli/options.ts)').toEqual([]);
  });

  it('checks every positional argument', () => {
    const unchecked: string[] = [];
    for (const command of everyCommand(program)) {
      for (const arg of command.registeredArguments) {
        if (!arg.parseArg) unchecked.push(`${command.name()} <${arg.name()}>`);
      }
    }
    expect(unchecked, 'arguments no parser checks (use argument() from cli/options.ts)').toEqual([]);
  });
});
