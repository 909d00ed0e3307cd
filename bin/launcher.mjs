// Runs a TypeScript entry of this repository from a build that is made on first use and kept
// until a source it was built from changes, so `npx zonectl` and `npm start` start in plain
// Node with no build step to remember and no TypeScript loader at run time.
//
// - The build (esbuild: ESM, split at every dynamic import so each command loads only its own
//   code, npm packages left to Node) goes to node_modules/.cache/zonectl/cli-<checkout id>/, one
//   folder per checkout even where checkouts share node_modules (or ZONECTL_CACHE_DIR,
//   or a folder in the system temp dir when node_modules cannot be written).
// - The cache's manifest lists every source file the build read, with its size, modification
//   time and SHA-256. A run checks sizes and times (a few milliseconds); a file whose time moved
//   but whose content did not (a checkout, a `touch`) is hashed and accepted. Any other change,
//   a missing file, another esbuild or another recipe makes a new build. A file that starts to be
//   imported is always found, because the file that now imports it changed.
// - Builds are written to a folder of their own and renamed into place, so a second zonectl
//   starting meanwhile (or still running an older build) is never handed half a build.
// - `import.meta.url` in a source is replaced by that source's own URL, so files found next to
//   the sources (the Lambda bootstrap, the dashboard's pages) are found as before.
// - Each chunk has a source map: `NODE_OPTIONS=--enable-source-maps` gives stack traces in
//   TypeScript lines (not on by default: Node then reads every map at load, slowing start-up).
// - When esbuild is missing or the build fails, the entry runs through tsx, as before, with a
//   warning that says why.
// Plain JavaScript: it runs before anything can load TypeScript.
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { extname, join, relative, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { zodEnglishOnly } from '../lib/zod-english-only.mjs';

// node:crypto is loaded only when something must be hashed: loading it costs more than the
// whole check of an unchanged build.
let createHash;
const sha256 = (data) => createHash('sha256').update(data).digest('hex');
async function loadCrypto() {
  ({ createHash } = await import('node:crypto'));
}

/** Bump when the build options below change, so older builds are not reused. */
const RECIPE = 4;
const MANIFEST = 'manifest.json';
/** Packages left to Node: native addons (DuckDB, the AWS CRT), and big tools run as processes. */
const UNBUNDLED = [
  '@duckdb/*',
  'aws-crt',
  'aws-iot-device-sdk-v2',
  'aws-cdk-lib',
  'aws-cdk',
  'constructs',
  'cdk-nag',
  'esbuild',
  'tsx',
  'typescript',
  'playwright-core',
];
/** Bundled CommonJS packages call `require`, which ES modules do not have. */
const REQUIRE_SHIM =
  "import { createRequire as __zonectlCreateRequire } from 'node:module'; const require = __zonectlCreateRequire(import.meta.url);";
/** Builds that are no longer current are removed once they are this old (ms). */
const KEEP_OLD_BUILDS_MS = 24 * 3600_000;

export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Where builds of this checkout are kept. */
export function cacheDirFor(root = REPO_ROOT) {
  if (process.env.ZONECTL_CACHE_DIR) return process.env.ZONECTL_CACHE_DIR;
  // One folder per checkout: a build points at the sources it was made from, and checkouts may
  // share node_modules (a link to another's), so one must never take another's build.
  const id = [...root].reduce((h, c) => (Math.imul(h, 31) + c.charCodeAt(0)) >>> 0, 7).toString(36);
  const inModules = join(root, 'node_modules', '.cache', 'zonectl', `cli-${id}`);
  if (writable(join(root, 'node_modules'))) return inModules;
  return join(tmpdir(), `zonectl-${process.getuid?.() ?? 'user'}-${id}`);
}

function writable(dir) {
  try {
    mkdirSync(join(dir, '.cache'), { recursive: true });
    return true;
  } catch {
    return false;
  }
}

function readManifest(cacheDir) {
  try {
    return JSON.parse(readFileSync(join(cacheDir, MANIFEST), 'utf8'));
  } catch {
    return undefined;
  }
}

function writeManifest(cacheDir, manifest) {
  const tmp = join(cacheDir, `${MANIFEST}.${process.pid}.${Date.now()}.tmp`);
  writeFileSync(tmp, JSON.stringify(manifest));
  renameSync(tmp, join(cacheDir, MANIFEST));
}

/**
 * The current build's entry file if every input is unchanged, else undefined. Inputs whose
 * time moved but whose content is the same are accepted, and the manifest is refreshed.
 */
export async function currentBuild(root, cacheDir, entries, esbuildVersion) {
  const manifest = readManifest(cacheDir);
  if (!manifest || manifest.recipe !== RECIPE || manifest.esbuild !== esbuildVersion) return undefined;
  if (JSON.stringify(manifest.entries) !== JSON.stringify(entries)) return undefined;
  const buildDir = join(cacheDir, manifest.build);
  let touched = false;
  for (const [path, input] of Object.entries(manifest.inputs)) {
    let st;
    try {
      st = statSync(join(root, path));
    } catch {
      return undefined;
    }
    if (st.size === input.size && st.mtimeMs === input.mtimeMs) continue;
    if (st.size !== input.size) return undefined;
    if (!createHash) await loadCrypto();
    let content;
    try {
      content = readFileSync(join(root, path));
    } catch {
      return undefined;
    }
    if (sha256(content) !== input.sha256) return undefined;
    input.mtimeMs = st.mtimeMs;
    touched = true;
  }
  if (!existsSync(buildDir)) return undefined;
  if (touched) {
    try {
      writeManifest(cacheDir, manifest);
    } catch {
      // a read-only cache still serves the build; the hashes are checked again next time
    }
  }
  return buildDir;
}

/**
 * `import.meta.url` in code becomes `url`; inside a quoted string it stays as written (code that
 * writes code, e.g. the agent's banner in device/build.ts, means the URL of the file it writes).
 * Template literals are code here, so `${import.meta.url}` in one is replaced.
 */
export function withSourceUrl(text, url) {
  return text.replace(/('(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*")|import\.meta\.url/g, (match, quoted) =>
    quoted === undefined ? url : match,
  );
}

/** esbuild plugin: `import.meta.url` in a repository source becomes that source's own URL. */
function sourceUrls(root, inputs) {
  return {
    name: 'zonectl-source-urls',
    setup(build) {
      build.onLoad({ filter: /\.[cm]?[jt]s$/ }, (args) => {
        if (args.path.split(sep).includes('node_modules')) return undefined;
        const st = statSync(args.path);
        const raw = readFileSync(args.path);
        inputs[relative(root, args.path).split(sep).join('/')] = {
          size: st.size,
          mtimeMs: st.mtimeMs,
          sha256: sha256(raw),
        };
        const url = JSON.stringify(pathToFileURL(args.path).href);
        const ext = extname(args.path);
        return {
          contents: withSourceUrl(raw.toString('utf8'), url),
          loader: ext === '.ts' || ext === '.mts' || ext === '.cts' ? 'ts' : 'js',
        };
      });
    },
  };
}

/** Builds `entries` ({ name: repository path }) into a new folder of the cache; returns it. */
export async function build(root, cacheDir, entries, esbuild) {
  if (!createHash) await loadCrypto();
  mkdirSync(cacheDir, { recursive: true });
  const staging = join(cacheDir, `staging-${process.pid}-${Date.now().toString(36)}`);
  const inputs = {};
  try {
    await esbuild.build({
      absWorkingDir: root,
      entryPoints: Object.fromEntries(
        Object.entries(entries).map(([name, path]) => [name, join(root, path)]),
      ),
      outdir: staging,
      outExtension: { '.js': '.mjs' },
      entryNames: '[name]',
      chunkNames: 'chunks/[name]-[hash]',
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      // npm packages are bundled too: Node then resolves and parses one module per chunk instead
      // of hundreds of files, and ESM does not have to scan CommonJS packages for their exports.
      // What cannot or need not be bundled stays with Node: native addons, and tools the
      // commands only start as other processes.
      external: UNBUNDLED,
      mainFields: ['module', 'main'],
      banner: { js: REQUIRE_SHIM },
      sourcemap: 'linked',
      sourcesContent: false,
      metafile: false,
      logLevel: 'silent',
      // zod with its English messages only: the others were most of the chunk every command loads
      plugins: [zodEnglishOnly, sourceUrls(root, inputs)],
    });
    // the build options live in this file and its plugin: a change to them is a change of the build
    for (const url of [import.meta.url, new URL('../lib/zod-english-only.mjs', import.meta.url)]) {
      const self = fileURLToPath(url);
      const selfStat = statSync(self);
      inputs[relative(root, self).split(sep).join('/')] = {
        size: selfStat.size,
        mtimeMs: selfStat.mtimeMs,
        sha256: sha256(readFileSync(self)),
      };
    }
    const key = sha256(
      JSON.stringify([
        RECIPE,
        esbuild.version,
        entries,
        Object.entries(inputs)
          .sort()
          .map(([p, i]) => [p, i.sha256]),
      ]),
    ).slice(0, 16);
    const name = `build-${key}`;
    const buildDir = join(cacheDir, name);
    if (existsSync(buildDir)) rmSync(staging, { recursive: true, force: true });
    else renameSync(staging, buildDir);
    writeManifest(cacheDir, { recipe: RECIPE, esbuild: esbuild.version, entries, build: name, inputs });
    removeOldBuilds(cacheDir, name);
    return buildDir;
  } catch (err) {
    rmSync(staging, { recursive: true, force: true });
    throw err;
  }
}

function removeOldBuilds(cacheDir, keep) {
  const now = Date.now();
  for (const entry of readdirSync(cacheDir)) {
    if (entry === keep || !/^(build|staging)-/.test(entry)) continue;
    const path = join(cacheDir, entry);
    try {
      if (now - statSync(path).mtimeMs > KEEP_OLD_BUILDS_MS) rmSync(path, { recursive: true, force: true });
    } catch {
      // another zonectl removed it first
    }
  }
}

/**
 * Imports `entry` (a repository path such as bin/zonectl.ts) from the cached build, building it
 * first when needed; through tsx when no build can be made.
 */
export async function launch(entry, { root = REPO_ROOT } = {}) {
  const name = entry.replace(/^.*\//, '').replace(/\.[cm]?ts$/, '');
  const entries = { [name]: entry };
  const cacheDir = cacheDirFor(root);
  let buildDir;
  let why;
  try {
    const version = esbuildVersion(root);
    buildDir = await currentBuild(root, cacheDir, entries, version);
    if (!buildDir) {
      if (process.env.ZONECTL_BUILD_NOTICE !== '0') {
        process.stderr.write(
          `zonectl: building the command from the sources (once per change) in ${cacheDir}\n`,
        );
      }
      const esbuild = await import('esbuild');
      try {
        buildDir = await build(root, cacheDir, entries, esbuild);
      } finally {
        // esbuild's service process would otherwise live as long as the command (a few
        // hundred MiB beside a running `local up`)
        await esbuild.stop();
      }
    }
  } catch (err) {
    why = err instanceof Error ? err.message.split('\n')[0] : String(err);
  }
  if (buildDir) return import(pathToFileURL(join(buildDir, `${name}.mjs`)).href);
  process.stderr.write(`zonectl: running from the TypeScript sources through tsx (slower start): ${why}\n`);
  const { register } = await import('tsx/esm/api');
  register();
  return import(pathToFileURL(join(root, entry)).href);
}

/** The installed esbuild's version, read without loading esbuild itself. */
function esbuildVersion(root) {
  const path = createRequire(join(root, 'package.json')).resolve('esbuild/package.json');
  return JSON.parse(readFileSync(path, 'utf8')).version;
}
