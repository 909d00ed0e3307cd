import type { z } from 'zod';

/**
 * Turns a failed zod parse into lines a person can act on: the field path, the value that
 * was given, and what was expected.
 */
export function describeIssues(error: z.ZodError, input: unknown, label = 'input'): string[] {
  return error.issues.map((issue) => {
    const path = formatPath(issue.path);
    const where = path ? `${label}: ${path}` : label;
    const got = valueAt(input, issue.path);
    const gotText = got === undefined ? 'nothing (field missing)' : JSON.stringify(got);
    return `${where}: got ${truncate(gotText)}; expected ${lowerFirst(issue.message)}`;
  });
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let current: unknown = input;
  for (const part of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[part as string];
  }
  return current;
}

function truncate(text: string, max = 80): string {
  return text.length > max ? `${text.slice(0, max - 3)}...` : text;
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}
