/**
 * Builds the device agent into what a device runs: one ES module with every JavaScript
 * dependency inlined (contracts/, zod, aws-iot-device-sdk-v2 and aws-crt's JavaScript), plus
 * aws-crt's native library (`aws-crt-nodejs.node`) beside it. The device needs Node.js 20 or
 * later and nothing else: no npm install, no node_modules.
 *
 *   npx tsx device/build.ts [outdir] [platform]     (default .zonectl/dist/agent, this machine)
 *
 * aws-crt looks for its native library next to its own files, or at the path in
 * AWS_CRT_NODEJS_BINARY_ABSOLUTE_PATH; the module's first lines point that variable at the
 * file beside the module (unless the device sets it), so the two files travel together.
 * The npm package ships the library for several platforms (aws-crt/dist/bin/<platform>); the
 * JavaScript is the same for all of them, so a laptop can build for a Raspberry Pi.
 *
 * `zonectl device pack <thing>` (provisioning/device-package.ts) adds the device's bundle.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const AGENT_FILE = 'zonectl-agent.mjs';
export const CRT_LIBRARY_FILE = 'aws-crt-nodejs.node';
/** The agent's own entry: simulated drivers unless a program passes its own (see device/main.ts). */
export const AGENT_ENTRY = fileURLToPath(new URL('./main.ts', import.meta.url));

const requireHere = createRequire(import.meta.url);

/** Where the aws-crt npm package keeps its native library per platform. */
function crtBinDir(): string {
  return join(dirname(requireHere.resolve('aws-crt/package.json')), 'dist', 'bin');
}

/** The platforms aws-crt ships a native library for, e.g. linux-x64-glibc, linux-arm64-musl. */
export function crtPlatforms(): string[] {
  return readdirSync(crtBinDir())
    .filter((name) => existsSync(join(crtBinDir(), name, CRT_LIBRARY_FILE)))
    .sort();
}

/** This machine's platform as aws-crt names it: <os>-<arch>-<glibc|musl|cruntime>. */
export function hostCrtPlatform(): string {
  let runtime = 'cruntime';
  if (process.platform === 'linux') {
    const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)
      ?.header;
    runtime = header?.glibcVersionRuntime ? 'glibc' : 'musl';
  }
  return `${process.platform}-${process.arch}-${runtime}`;
}

/** Lines run before anything else in the module: CommonJS names for the inlined packages, and aws-crt's library path. */
const BANNER = [
  "import { createRequire as __zonectlRequire } from 'node:module';",
  "import { fileURLToPath as __zonectlPath } from 'node:url';",
  "import { dirname as __zonectlDirname, join as __zonectlJoin } from 'node:path';",
  'const require = __zonectlRequire(import.meta.url);',
  'const __filename = __zonectlPath(import.meta.url);',
  'const __dirname = __zonectlDirname(__filename);',
  `process.env.AWS_CRT_NODEJS_BINARY_ABSOLUTE_PATH ??= __zonectlJoin(__dirname, '${CRT_LIBRARY_FILE}');`,
].join('\n');

export interface BuildAgentOptions {
  /** The directory to write the module and the native library into. */
  readonly outDir: string;
  /** Which native library to copy (one of `crtPlatforms()`). @default hostCrtPlatform() */
  readonly platform?: string;
  /** The program to build: the agent's own entry, or one that imports runAgent with real drivers. */
  readonly entry?: string;
}

export interface BuiltAgent {
  readonly agentFile: string;
  readonly libraryFile: string;
  readonly platform: string;
  readonly bytes: number;
}

export class AgentBuildError extends Error {
  override readonly name = 'AgentBuildError';
}

export async function buildAgent(o: BuildAgentOptions): Promise<BuiltAgent> {
  const platform = o.platform ?? hostCrtPlatform();
  const platforms = crtPlatforms();
  if (!platforms.includes(platform)) {
    throw new AgentBuildError(
      `aws-crt has no native library for ${platform}; it ships ${platforms.join(', ')}`,
    );
  }
  const outDir = resolve(o.outDir);
  mkdirSync(outDir, { recursive: true });
  const agentFile = join(outDir, AGENT_FILE);
  try {
    // esbuild loads only when an agent is built, not with the zonectl command list
    const { build } = await import('esbuild');
    await build({
      entryPoints: [resolve(o.entry ?? AGENT_ENTRY)],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      minify: true,
      legalComments: 'eof',
      banner: { js: BANNER },
      outfile: agentFile,
      logLevel: 'silent',
    });
  } catch (err) {
    throw new AgentBuildError(`building ${o.entry ?? AGENT_ENTRY} failed: ${(err as Error).message}`);
  }
  const libraryFile = join(outDir, CRT_LIBRARY_FILE);
  copyFileSync(join(crtBinDir(), platform, CRT_LIBRARY_FILE), libraryFile);
  return { agentFile, libraryFile, platform, bytes: statSync(agentFile).size };
}

const entry = process.argv[1];
if (entry && import.meta.url === pathToFileURL(resolve(entry)).href) {
  const [outDir = '.zonectl/dist/agent', platform] = process.argv.slice(2);
  const built = await buildAgent({ outDir, platform });
  console.log(
    `wrote ${built.agentFile} (${(built.bytes / 1024).toFixed(0)} KiB) and ${built.libraryFile} (${built.platform}); on the device: node ${AGENT_FILE} --bundle bundle.json`,
  );
}
