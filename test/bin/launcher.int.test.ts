import { execFile } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { cacheDirFor, withSourceUrl } from '../../bin/launcher.mjs';

/**
 * bin/launcher.mjs: `npx zonectl` runs a build of the sources that is made on first use and
 * made again only when a source it read changes; without a usable build it runs the sources
 * through tsx. Each case runs Node in a child process, as a user's shell would.
 */
const REPO = fileURLToPath(new URL('../..', import.meta.url));
const LAUNCHER = join(REPO, 'bin', 'launcher.mjs');
const ZONECTL = join(REPO, 'bin', 'zonectl.mjs');

const scratch = mkdtempSync(join(tmpdir(), 'zonectl-launcher-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function node(args: readonly string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      args,
      { env: { ...process.env, ...env }, timeout: 60_000 },
      (err, stdout, stderr) => {
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

/** A little program of its own: an entry that imports a module and loads another on demand. */
function sampleProgram(): { root: string; cache: string; launch: (...args: string[]) => Promise<Run> } {
  const root = mkdtempSync(join(scratch, 'program-'));
  symlinkSync(join(REPO, 'node_modules'), join(root, 'node_modules'), 'junction');
  writeFileSync(join(root, 'package.json'), '{ "type": "module" }\n');
  writeFileSync(join(root, 'dep.ts'), "export const greeting: string = 'hello';\n");
  writeFileSync(join(root, 'lazy.ts'), "export const lazy = 'loaded on demand';\n");
  writeFileSync(
    join(root, 'entry.ts'),
    [
      "import { greeting } from './dep';",
      'console.log(`${greeting} from ${import.meta.url}`);',
      "if (process.argv.includes('--lazy')) console.log((await import('./lazy')).lazy);",
      '',
    ].join('\n'),
  );
  const cache = join(root, 'cache');
  const script = `import(${JSON.stringify(pathToFileURL(LAUNCHER).href)}).then((m) => m.launch('entry.ts', { root: ${JSON.stringify(root)} }))`;
  return {
    root,
    cache,
    launch: (...args) =>
      node(['--input-type=module', '-e', script, '--', ...args], { ZONECTL_CACHE_DIR: cache }),
  };
}

const buildsIn = (cache: string) => readdirSync(cache).filter((e) => e.startsWith('build-'));

describe('the launcher', () => {
  it('builds on the first run, reuses the build after that, and keeps import.meta.url pointing at the source', async () => {
    const p = sampleProgram();
    const first = await p.launch();
    expect(first.code).toBe(0);
    expect(first.stderr).toMatch(/building the command from the sources/);
    expect(first.stdout.trim()).toBe(`hello from ${pathToFileURL(join(p.root, 'entry.ts')).href}`);

    const second = await p.launch('--lazy');
    expect(second.stderr).not.toMatch(/building/);
    expect(second.stdout).toContain('loaded on demand');
    expect(buildsIn(p.cache)).toHaveLength(1);
  });

  it('leaves no build process running beside the command it built', async () => {
    const p = sampleProgram();
    writeFileSync(
      join(p.root, 'entry.ts'),
      [
        "import { readFileSync } from 'node:fs';",
        'const children = () => readFileSync(`/proc/${process.pid}/task/${process.pid}/children`, "utf8").trim();',
        '// a stopped child takes a moment to exit and be reaped',
        'for (let i = 0; i < 40 && children(); i++) await new Promise((r) => setTimeout(r, 50));',
        'console.log(`children: [${children()}]`);',
        '',
      ].join('\n'),
    );
    const run = await p.launch();
    expect(run.stderr).toMatch(/building the command from the sources/);
    expect(run.stdout.trim()).toBe('children: []');
  });

  it('builds again when a source changes, but not when only its time changes', async () => {
    const p = sampleProgram();
    await p.launch();
    const later = new Date(Date.now() + 60_000);
    utimesSync(join(p.root, 'dep.ts'), later, later);
    const touched = await p.launch();
    expect(touched.stderr).not.toMatch(/building/);

    writeFileSync(join(p.root, 'dep.ts'), "export const greeting: string = 'changed';\n");
    const changed = await p.launch();
    expect(changed.stderr).toMatch(/building the command/);
    expect(changed.stdout).toMatch(/^changed from /);
  });

  it('builds again when a module loaded on demand changes', async () => {
    const p = sampleProgram();
    await p.launch('--lazy');
    writeFileSync(join(p.root, 'lazy.ts'), "export const lazy = 'new lazy';\n");
    const changed = await p.launch('--lazy');
    expect(changed.stderr).toMatch(/building the command/);
    expect(changed.stdout).toContain('new lazy');
  });

  it('runs the sources through tsx, saying why, when it cannot write a build', async () => {
    const p = sampleProgram();
    // a cache folder that cannot be made: its parent is a file
    writeFileSync(join(p.root, 'not-a-folder'), '');
    const run = await node(
      [
        '--input-type=module',
        '-e',
        `import(${JSON.stringify(pathToFileURL(LAUNCHER).href)}).then((m) => m.launch('entry.ts', { root: ${JSON.stringify(p.root)} }))`,
      ],
      { ZONECTL_CACHE_DIR: join(p.root, 'not-a-folder', 'cache') },
    );
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/running from the TypeScript sources through tsx \(slower start\): .*ENOTDIR/);
    expect(run.stdout).toMatch(/^hello from /);
  });
});

describe('import.meta.url in a built source', () => {
  const url = JSON.stringify('file:///repo/device/build.ts');

  it('becomes the source URL in code and in template literals', () => {
    expect(withSourceUrl('new URL("./main.ts", import.meta.url)', url)).toBe(
      'new URL("./main.ts", "file:///repo/device/build.ts")',
    );
    expect(withSourceUrl('`${a} from ${import.meta.url}`', url)).toBe(
      '`${a} from ${"file:///repo/device/build.ts"}`',
    );
  });

  it('stays as written in a quoted string, code that a source writes for another file', () => {
    const banner = "'const __filename = __zonectlPath(import.meta.url);'";
    expect(withSourceUrl(banner, url)).toBe(banner);
    expect(withSourceUrl('"say \\"import.meta.url\\""', url)).toBe('"say \\"import.meta.url\\""');
  });
});

describe('the build cache', () => {
  it('is a folder of its own for each checkout, even when checkouts share node_modules', () => {
    const shared = join(scratch, 'shared-node_modules');
    mkdirSync(shared, { recursive: true });
    const [a, b] = ['checkout-a', 'checkout-b'].map((name) => {
      const root = join(scratch, name);
      mkdirSync(root, { recursive: true });
      symlinkSync(shared, join(root, 'node_modules'));
      return root;
    });
    const saved = process.env.ZONECTL_CACHE_DIR;
    delete process.env.ZONECTL_CACHE_DIR;
    try {
      expect(cacheDirFor(a!)).not.toBe(cacheDirFor(b!));
      expect(cacheDirFor(a!).startsWith(join(a!, 'node_modules', '.cache', 'zonectl'))).toBe(true);
    } finally {
      if (saved !== undefined) process.env.ZONECTL_CACHE_DIR = saved;
    }
  });
});

describe('zonectl from its build', () => {
  const cache = join(scratch, 'zonectl-cache');

  it('prints its help', async () => {
    const run = await node([ZONECTL, '--help'], { ZONECTL_CACHE_DIR: cache });
    expect(run.code).toBe(0);
    for (const command of ['onboard', 'revoke', 'device', 'local', 'start']) {
      expect(run.stdout).toMatch(new RegExp(`^\\s+${command}\\b`, 'm'));
    }
  });

  it('loads no device SDK, CDK, AWS SDK, broker, certificate, schema or database code before a command runs', () => {
    const [build] = buildsIn(cache);
    expect(build, 'a build from the previous test').toBeDefined();
    const dir = join(cache, build!);
    // Every file the entry imports statically, followed through the chunks.
    const seen = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const code = readFileSync(file, 'utf8');
      for (const m of code.matchAll(/^import\s[^;]*?from\s*"(\.[^"]+)";?$|^import\s*"(\.[^"]+)";?$/gm)) {
        visit(join(file, '..', (m[1] ?? m[2])!));
      }
    };
    visit(join(dir, 'zonectl.mjs'));
    const loaded = [...seen].map((f) => readFileSync(f, 'utf8')).join('\n');
    const packages = new Set(
      [...loaded.matchAll(/^\/\/ node_modules\/((?:@[^/]+\/)?[^/]+)\//gm)].map((m) => m[1]),
    );
    for (const heavy of [
      'aws-iot-device-sdk-v2',
      'aws-crt',
      'aws-cdk-lib',
      '@aws-sdk',
      '@smithy',
      'aedes',
      '@peculiar/x509',
      // the building config's schema loads once a command runs (cli/options.ts, checkOptions)
      'zod',
    ]) {
      expect([...packages].filter((p) => p === heavy || p?.startsWith(`${heavy}/`))).toEqual([]);
      expect(loaded).not.toMatch(new RegExp(`from "${heavy.replace('/', '\\/')}`));
    }
    expect(loaded).not.toMatch(/from "@duckdb\//);
    expect(existsSync(join(cache, 'manifest.json'))).toBe(true);
  });
});
