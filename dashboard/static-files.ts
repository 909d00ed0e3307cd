import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AwsResponse } from '../local/gateway/types';

/**
 * The dashboard's page, script and styles (dashboard/public/) and the uPlot chart library
 * (served from its npm package under vendor/). Paths cannot climb out of either folder.
 */

const PUBLIC_DIR = join(dirname(fileURLToPath(import.meta.url)), 'public');
const requireFromHere = createRequire(import.meta.url);
const UPLOT_DIR = dirname(requireFromHere.resolve('uplot/dist/uPlot.iife.min.js'));
const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

/** The file at `path` below /dashboard/, or a 404 naming it. */
export async function staticFile(path: string): Promise<AwsResponse> {
  const clean = normalize(path).replace(/^(\.\.[/\\])+/, '');
  const file = clean.startsWith('vendor/')
    ? join(UPLOT_DIR, clean.slice('vendor/'.length))
    : join(PUBLIC_DIR, clean);
  try {
    const body = await readFile(file);
    return {
      status: 200,
      headers: {
        'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream',
        'cache-control': 'no-cache',
      },
      body,
    };
  } catch {
    return { status: 404, headers: { 'content-type': 'text/plain' }, body: `not found: /dashboard/${path}` };
  }
}
