/** The agent's command line on a device: --bundle and --data-dir, anything else refused with the usage. */
import { describe, expect, it } from 'vitest';
import { BundleError } from '../../device/bundle';
import { parseAgentArgs } from '../../device/main';

describe('the agent command line', () => {
  it('takes --bundle and an optional --data-dir', () => {
    expect(parseAgentArgs(['--bundle', 'bundle.json'])).toEqual({
      bundle: 'bundle.json',
      dataDir: undefined,
    });
    expect(parseAgentArgs(['--bundle', 'b.json', '--data-dir', '/var/lib/zonectl'])).toEqual({
      bundle: 'b.json',
      dataDir: '/var/lib/zonectl',
    });
    expect(parseAgentArgs(['--help'])).toEqual({ help: true });
  });

  it('refuses a missing --bundle, an unknown option and a stray argument, with the usage', () => {
    for (const args of [[], ['--bundel', 'x'], ['bundle.json'], ['--bundle', 'b.json', '--data-dir', '']]) {
      expect(() => parseAgentArgs(args), args.join(' ')).toThrow(BundleError);
      try {
        parseAgentArgs(args);
      } catch (err) {
        expect((err as Error).message).toContain('usage: node zonectl-agent.mjs --bundle <bundle.json>');
      }
    }
    expect(() => parseAgentArgs([])).toThrow(/option --bundle is missing/);
    expect(() => parseAgentArgs(['--bundel', 'x'])).toThrow(/Unknown option '--bundel'/);
  });
});
