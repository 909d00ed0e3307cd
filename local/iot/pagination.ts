/** Opaque list tokens for the IoT list operations (nextToken / marker). */
import { invalidRequest } from './errors';

export interface Page<T> {
  readonly items: T[];
  readonly next?: string;
}

const encode = (offset: number) => Buffer.from(JSON.stringify({ o: offset })).toString('base64url');

function decode(token: string): number {
  try {
    const o = (JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { o?: unknown }).o;
    if (typeof o === 'number' && Number.isInteger(o) && o >= 0) return o;
  } catch {
    // fall through
  }
  throw invalidRequest(`Invalid pagination token: ${token.slice(0, 64)}`);
}

/** One page of `all`; `limit` is clamped to 1..maxLimit, a missing one means maxLimit. */
export function paginate<T>(
  all: readonly T[],
  token: string | undefined,
  limit: number | undefined,
  maxLimit: number,
): Page<T> {
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > maxLimit)) {
    throw invalidRequest(`The page size must be between 1 and ${maxLimit}; got ${limit}`);
  }
  const start = token ? decode(token) : 0;
  const size = limit ?? maxLimit;
  const items = all.slice(start, start + size);
  const end = start + items.length;
  return end < all.length ? { items, next: encode(end) } : { items };
}
