/**
 * The layers of docs/architecture.md, enforced: every relative import and every package import
 * of every source file is checked against the table there, so a wrong-way import fails
 * `npm test` with the importing file, the imported file and the rule it breaks. The table is
 * read from the document itself, so the document and the check cannot drift apart.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, posix, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DOC = 'docs/architecture.md';

/** One row of the layer table: a layer folder (`lib/`) or a single file (`contracts/index.ts`). */
interface Row {
  readonly key: string;
  /** Layer folders it may import; 'all' for every layer. */
  readonly mayImport: readonly string[] | 'all';
  /** Packages (`@aws-sdk/`, `aedes`) and repository paths it must never import. */
  readonly never: readonly string[];
}

/** An import as written in a file: a resolved repository path for a relative one, else the package. */
type Import =
  | { readonly kind: 'path'; readonly specifier: string; readonly target: string | undefined }
  | { readonly kind: 'package'; readonly specifier: string };

const backticked = (cell: string) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1] as string);

/** The rows of the table under `## Layers` in the architecture document. */
function parseLayerTable(markdown: string): Row[] {
  const lines = markdown.split('\n');
  const start = lines.findIndex((l) => l.trim() === '## Layers');
  if (start < 0) throw new Error(`${DOC} has no "## Layers" section`);
  const rows: Row[] = [];
  let inTable = false;
  for (const line of lines.slice(start + 1)) {
    if (!line.startsWith('|')) {
      if (inTable) break;
      continue;
    }
    inTable = true;
    const cells = line.split('|').slice(1, -1);
    const [key] = backticked(cells[0] ?? '');
    if (!key) continue; // the header and separator rows
    const may = cells[1] ?? '';
    rows.push({
      key,
      mayImport: /every layer/.test(may) ? 'all' : backticked(may),
      never: backticked(cells[2] ?? ''),
    });
  }
  return rows;
}

/** The top-level folder of a repository path (`lib/`), or undefined for a file at the root. */
const layerOf = (path: string): string | undefined =>
  path.includes('/') ? `${path.slice(0, path.indexOf('/'))}/` : undefined;

const matchesNever = (token: string, imp: Import): boolean => {
  if (imp.kind === 'package')
    return imp.specifier === token || imp.specifier.startsWith(token.endsWith('/') ? token : `${token}/`);
  return (
    imp.target !== undefined &&
    (imp.target === token || (token.endsWith('/') && imp.target.startsWith(token)))
  );
};

/** What is wrong with one import of `from` under the table; an empty list when nothing is. */
function checkImport(rows: readonly Row[], from: string, imp: Import): string[] {
  const layer = layerOf(from);
  if (!layer) return [];
  const applicable = rows.filter((r) => from === r.key || (r.key.endsWith('/') && from.startsWith(r.key)));
  const own = rows.find((r) => r.key === layer);
  if (!own) return [`${from} is in no layer: add a row for ${layer} to the table in ${DOC}`];
  const problems: string[] = [];
  const what = imp.kind === 'package' ? `package ${imp.specifier}` : (imp.target ?? imp.specifier);
  for (const row of applicable) {
    for (const token of row.never) {
      if (matchesNever(token, imp)) {
        problems.push(`${from} imports ${what}: ${row.key} never imports ${token} (${DOC}, row ${row.key})`);
      }
    }
  }
  if (imp.kind === 'path') {
    if (imp.target === undefined) {
      problems.push(`${from} imports ${imp.specifier}, which is no file of the repository`);
      return problems;
    }
    const targetLayer = layerOf(imp.target);
    if (targetLayer === layer || own.mayImport === 'all') return problems;
    if (!targetLayer || !own.mayImport.includes(targetLayer)) {
      const allowed =
        own.mayImport.length > 0 ? own.mayImport.join(', ') : 'no other layer (npm packages only)';
      problems.push(`${from} imports ${imp.target}: ${layer} may import ${allowed} (${DOC}, row ${layer})`);
    }
  }
  return problems;
}

/** Rule local-service-index of the document: a local service reaches another only through its index.ts. */
function checkLocalServiceImport(from: string, imp: Import): string | undefined {
  if (imp.kind !== 'path' || !imp.target) return undefined;
  const service = /^local\/([^/]+)\//.exec(from)?.[1];
  const other = /^local\/([^/]+)\/(.+)$/.exec(imp.target);
  if (!service || service === 'common' || !other) return undefined;
  const [, otherService, file] = other;
  if (otherService === service || otherService === 'common' || file === 'index.ts') return undefined;
  return `${from} imports ${imp.target}: a local service imports another service only through its index.ts (local/${otherService}/index.ts; rule local-service-index, ${DOC})`;
}

const SKIP_DIRS = new Set(['node_modules', 'cdk.out', '__snapshots__', 'fixtures', 'public', 'vendor']);
const SOURCE = /\.(ts|mts|cts|js|mjs|cjs)$/;

/** Every source file below the root's folders, as repository paths. */
function sourceFiles(dir = ROOT): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    if (entry.startsWith('.') || SKIP_DIRS.has(entry)) continue;
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (dir !== ROOT && SOURCE.test(entry)) out.push(relative(ROOT, path).split('\\').join('/'));
  }
  return out;
}

function resolveImport(from: string, specifier: string): string | undefined {
  const base = posix.normalize(posix.join(posix.dirname(from), specifier));
  const candidates = [base, `${base}.ts`, `${base}.js`, `${base}.mjs`, `${base}/index.ts`];
  return candidates.find((c) => existsSync(join(ROOT, c)) && statSync(join(ROOT, c)).isFile());
}

function importsOf(file: string): Import[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  return ts.preProcessFile(text, true, true).importedFiles.map(({ fileName }): Import => {
    if (fileName.startsWith('.'))
      return { kind: 'path', specifier: fileName, target: resolveImport(file, fileName) };
    return { kind: 'package', specifier: fileName };
  });
}

const rows = parseLayerTable(readFileSync(join(ROOT, DOC), 'utf8'));
const files = sourceFiles();

describe('the layer table', () => {
  it('has a row for every top-level folder that holds source', () => {
    const layers = new Set(files.map(layerOf));
    const missing = [...layers].filter((l) => l && !rows.some((r) => r.key === l));
    expect(missing, `add these to the table in ${DOC}`).toEqual([]);
  });

  it('names only layers that exist in the may-import column', () => {
    const keys = new Set(rows.map((r) => r.key));
    const unknown = rows.flatMap((r) =>
      r.mayImport === 'all' ? [] : r.mayImport.filter((l) => !keys.has(l)),
    );
    expect(unknown).toEqual([]);
  });
});

describe('imports', () => {
  it('follow the layer table in every source file', () => {
    const problems = files.flatMap((file) => importsOf(file).flatMap((imp) => checkImport(rows, file, imp)));
    expect(problems).toEqual([]);
  });

  it('reach another local service only through its index.ts', () => {
    const problems = files
      .filter((f) => f.startsWith('local/'))
      .flatMap((file) => importsOf(file).flatMap((imp) => checkLocalServiceImport(file, imp) ?? []));
    expect(problems).toEqual([]);
  });
});

describe('the layer check itself', () => {
  const path = (target: string): Import => ({ kind: 'path', specifier: target, target });
  const pkg = (specifier: string): Import => ({ kind: 'package', specifier });

  it('refuses an upward import, naming both files and the row', () => {
    expect(checkImport(rows, 'dashboard/view.ts', path('sim/schedule.ts'))).toEqual([
      `dashboard/view.ts imports sim/schedule.ts: dashboard/ may import contracts/, local/ (${DOC}, row dashboard/)`,
    ]);
  });

  it('refuses a package the layer never imports', () => {
    expect(checkImport(rows, 'contracts/topics.ts', pkg('@aws-sdk/client-iot'))).toEqual([
      `contracts/topics.ts imports package @aws-sdk/client-iot: contracts/ never imports @aws-sdk/ (${DOC}, row contracts/)`,
    ]);
    expect(checkImport(rows, 'contracts/topics.ts', pkg('aws-cdk-lib/aws-iot'))).toHaveLength(1);
    expect(checkImport(rows, 'contracts/topics.ts', pkg('zod'))).toEqual([]);
  });

  it('keeps contracts/pki.ts out of contracts/index.ts and out of lambda/', () => {
    expect(checkImport(rows, 'contracts/index.ts', path('contracts/pki.ts'))).toHaveLength(1);
    expect(checkImport(rows, 'lambda/ingest/ingest.ts', path('contracts/pki.ts'))).toHaveLength(1);
    expect(checkImport(rows, 'device/agent.ts', path('contracts/pki.ts'))).toEqual([]);
  });

  it('refuses bench/ importing test/ helpers and lets test/ import anything', () => {
    expect(checkImport(rows, 'bench/fleet.ts', path('test/helpers/pki.ts'))).toHaveLength(1);
    expect(checkImport(rows, 'test/lib/x.test.ts', path('bench/fleet.ts'))).toEqual([]);
  });

  it('refuses a local service reaching into another service past its index.ts', () => {
    expect(checkLocalServiceImport('local/sqs/api.ts', path('local/gateway/types.ts'))).toContain(
      'local/sqs/api.ts imports local/gateway/types.ts: a local service imports another service only through its index.ts',
    );
    expect(checkLocalServiceImport('local/sqs/api.ts', path('local/gateway/index.ts'))).toBeUndefined();
    expect(checkLocalServiceImport('local/sqs/api.ts', path('local/common/log.ts'))).toBeUndefined();
    expect(checkLocalServiceImport('local/cloud.ts', path('local/sqs/service.ts'))).toBeUndefined();
  });
});
