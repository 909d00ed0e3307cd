/**
 * Device Shadow document logic, pure: request validation, partial-merge updates, delta,
 * metadata, versions and the response documents (AWS IoT Core developer guide, "Device Shadow
 * service documents", "Device Shadow REST API" and "Device Shadow MQTT topics"; limits from
 * "AWS IoT Device Shadow service limits").
 *
 * LIMITATIONS versus AWS:
 * - Nesting depth is counted inside `desired`/`reported` (their direct keys are level 1, at
 *   most 6 levels), which with the document root and `state` gives the 8 levels AWS quotes;
 *   AWS does not document the exact reference point.
 * - `/update/delta` is produced when the request carries `desired` and the resulting shadow has
 *   a delta; AWS documents "when desired and reported differ" without saying whether a
 *   reported-only update re-sends it.
 * - An array containing null is rejected with 400 "State contains an invalid node" (AWS rejects
 *   it; its exact message is not documented).
 * - A deleted shadow keeps its version forever (AWS restarts numbering after 48 hours).
 */

import { nestingDepth } from '../common';
import { ShadowError } from './errors';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };
/** Metadata mirrors state: `{timestamp}` at leaves, arrays of `{timestamp}` for arrays. */
export type Metadata = { [key: string]: Metadata | { timestamp: number } | Array<{ timestamp: number }> };

export const MAX_CLIENT_TOKEN_BYTES = 64;
export const MAX_STATE_BYTES = 8192;
export const MAX_DEPTH = 6;
export const THING_NAME = /^[a-zA-Z0-9:_-]{1,128}$/;
export const SHADOW_NAME = /^[$a-zA-Z0-9:_-]{1,64}$/;

export interface StoredShadow {
  desired?: JsonObject;
  reported?: JsonObject;
  metadata: { desired?: Metadata; reported?: Metadata };
  version: number;
  /** Epoch seconds of the last change. */
  timestamp: number;
  /** True after DeleteThingShadow; the version counter carries on. */
  deleted: boolean;
}

export interface UpdateRequest {
  /** null when the request was `{"state": null}`. */
  readonly state: { desired?: JsonObject | null; reported?: JsonObject | null } | null;
  readonly clientToken?: string;
  readonly version?: number;
}

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

export function notFoundMessage(shadowName: string): string {
  return `No shadow exists with name: '${shadowName}'`;
}

/** Parses and validates a request document's JSON (update, or the clientToken of get/delete). */
export function parseJson(payload: Buffer | string): unknown {
  const text = typeof payload === 'string' ? payload : payload.toString('utf8');
  if (typeof payload !== 'string' && !Buffer.from(text, 'utf8').equals(payload)) {
    throw new ShadowError(415, 'Unsupported documented encoding; supported encoding is UTF-8');
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new ShadowError(400, 'Invalid JSON');
  }
}

export function validateClientToken(token: unknown): string | undefined {
  if (token === undefined) return undefined;
  if (typeof token !== 'string' || Buffer.byteLength(token, 'utf8') > MAX_CLIENT_TOKEN_BYTES) {
    throw new ShadowError(400, 'Invalid clientToken');
  }
  return token;
}

/** The clientToken of a get or delete request, whose payload may be empty. */
export function parseTokenOnly(payload: Buffer | string): string | undefined {
  if (payload.length === 0) return undefined;
  const doc = parseJson(payload);
  if (!isObject(doc)) throw new ShadowError(400, 'Invalid JSON');
  return validateClientToken(doc.clientToken);
}

function containsNullInArray(value: Json): boolean {
  if (Array.isArray(value)) return value.some((v) => v === null || containsNullInArray(v));
  if (isObject(value)) return Object.values(value).some(containsNullInArray);
  return false;
}

export function parseUpdateRequest(payload: Buffer | string): UpdateRequest {
  const doc = parseJson(payload);
  if (!isObject(doc)) throw new ShadowError(400, 'Invalid JSON');
  const clientToken = validateClientToken(doc.clientToken);
  let version: number | undefined;
  if (doc.version !== undefined) {
    if (typeof doc.version !== 'number' || !Number.isInteger(doc.version) || doc.version < 0) {
      throw new ShadowError(400, 'Invalid version');
    }
    version = doc.version;
  }
  if (!('state' in doc)) throw new ShadowError(400, 'Missing required node: state');
  const base = {
    ...(clientToken !== undefined ? { clientToken } : {}),
    ...(version !== undefined ? { version } : {}),
  };
  if (doc.state === null) return { state: null, ...base };
  if (!isObject(doc.state)) throw new ShadowError(400, 'State node must be an object');
  const state: { desired?: JsonObject | null; reported?: JsonObject | null } = {};
  for (const [key, value] of Object.entries(doc.state)) {
    if (key !== 'desired' && key !== 'reported') {
      throw new ShadowError(400, `State contains an invalid node: '${key}'`);
    }
    if (value !== null && !isObject(value)) {
      throw new ShadowError(400, `${key === 'desired' ? 'Desired' : 'Reported'} node must be an object`);
    }
    if (value !== null) {
      if (nestingDepth(value, MAX_DEPTH) > MAX_DEPTH) {
        throw new ShadowError(400, `JSON contains too many levels of nesting; maximum is ${MAX_DEPTH}`);
      }
      if (containsNullInArray(value)) throw new ShadowError(400, 'State contains an invalid node');
    }
    state[key] = value;
  }
  return { state, ...base };
}

/** Metadata for a request subtree: every leaf (including nulls) stamped with `now`. */
function stamp(value: Json, now: number): Metadata | { timestamp: number } | Array<{ timestamp: number }> {
  if (Array.isArray(value)) return value.map(() => ({ timestamp: now }));
  if (isObject(value)) {
    const out: Metadata = {};
    for (const [k, v] of Object.entries(value)) out[k] = stamp(v, now);
    return out;
  }
  return { timestamp: now };
}

/** Partial merge (objects recursively, arrays and scalars replace, null deletes). */
function merge(
  target: JsonObject,
  meta: Metadata,
  patch: JsonObject,
  now: number,
): { state: JsonObject; metadata: Metadata } {
  const state: JsonObject = { ...target };
  const metadata: Metadata = { ...meta };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) {
      delete state[key];
      delete metadata[key];
    } else if (isObject(value)) {
      const current = state[key];
      const currentMeta = metadata[key];
      const merged = merge(
        isObject(current) ? current : {},
        isObject(current) && isMetadataObject(currentMeta) ? currentMeta : {},
        value,
        now,
      );
      state[key] = merged.state;
      metadata[key] = merged.metadata;
    } else {
      state[key] = value;
      metadata[key] = stamp(value, now);
    }
  }
  return { state, metadata };
}

const isMetadataObject = (m: unknown): m is Metadata =>
  isObject(m as Json) &&
  !('timestamp' in (m as object) && typeof (m as { timestamp: unknown }).timestamp === 'number');

const sameJson = (a: Json | undefined, b: Json | undefined) => JSON.stringify(a) === JSON.stringify(b);

/**
 * Delta (developer guide, "Delta state"): desired keys whose value differs from reported;
 * objects compared key by key, arrays whole.
 */
export function computeDelta(
  desired: JsonObject | undefined,
  reported: JsonObject | undefined,
): JsonObject | undefined {
  if (!desired) return undefined;
  const out: JsonObject = {};
  for (const [key, want] of Object.entries(desired)) {
    const have = reported?.[key];
    if (isObject(want) && isObject(have)) {
      const nested = computeDelta(want, have);
      if (nested) out[key] = nested;
    } else if (!sameJson(want, have)) {
      out[key] = want;
    }
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** The desired metadata of the keys present in a delta. */
function deltaMetadata(delta: JsonObject, meta: Metadata | undefined): Metadata {
  const out: Metadata = {};
  for (const [key, value] of Object.entries(delta)) {
    const m = meta?.[key];
    if (m === undefined) continue;
    out[key] = isObject(value) && isMetadataObject(m) ? deltaMetadata(value, m) : m;
  }
  return out;
}

const nonEmpty = (o: JsonObject | undefined): o is JsonObject => o !== undefined && Object.keys(o).length > 0;

export function emptyShadow(): StoredShadow {
  return { metadata: {}, version: 0, timestamp: 0, deleted: true };
}

export function exists(shadow: StoredShadow | undefined): shadow is StoredShadow & { deleted: false } {
  return shadow !== undefined && !shadow.deleted;
}

/** The state and metadata sections of a stored shadow, empty sections left out. */
function sections(shadow: StoredShadow) {
  const state: JsonObject = {};
  const metadata: Record<string, Metadata> = {};
  if (nonEmpty(shadow.desired)) {
    state.desired = shadow.desired;
    metadata.desired = shadow.metadata.desired ?? {};
  }
  if (nonEmpty(shadow.reported)) {
    state.reported = shadow.reported;
    metadata.reported = shadow.metadata.reported ?? {};
  }
  return { state, metadata };
}

/** GetThingShadow / `get/accepted`. */
export function getDocument(shadow: StoredShadow, clientToken: string | undefined, now: number): object {
  const { state, metadata } = sections(shadow);
  const delta = computeDelta(shadow.desired, shadow.reported);
  if (delta) state.delta = delta;
  return {
    state,
    metadata,
    version: shadow.version,
    timestamp: now,
    ...(clientToken !== undefined ? { clientToken } : {}),
  };
}

export interface UpdateOutcome {
  readonly shadow: StoredShadow;
  /** `update/accepted` and the UpdateThingShadow response. */
  readonly accepted: object;
  /** `update/delta`, when there is one to announce. */
  readonly delta?: object;
  /** `update/documents`. */
  readonly documents: object;
}

/** Applies an update with optimistic locking; throws ShadowError for 409 and 413. */
export function applyUpdate(
  current: StoredShadow | undefined,
  request: UpdateRequest,
  now: number,
): UpdateOutcome {
  const previous = current ?? emptyShadow();
  if (request.version !== undefined && request.version !== previous.version) {
    throw new ShadowError(409, 'Version conflict');
  }
  const base: StoredShadow = exists(previous) ? previous : { ...emptyShadow(), version: previous.version };
  const next: StoredShadow = {
    ...(base.desired ? { desired: base.desired } : {}),
    ...(base.reported ? { reported: base.reported } : {}),
    metadata: { ...base.metadata },
    version: previous.version + 1,
    timestamp: now,
    deleted: false,
  };
  const token = request.clientToken !== undefined ? { clientToken: request.clientToken } : {};
  let accepted: object;
  if (request.state === null) {
    delete next.desired;
    delete next.reported;
    next.metadata = {};
    accepted = { state: null, metadata: {}, version: next.version, timestamp: now, ...token };
  } else {
    const acceptedState: JsonObject = {};
    const acceptedMeta: Record<string, Json | Metadata> = {};
    for (const section of ['desired', 'reported'] as const) {
      const patch = request.state[section];
      if (patch === undefined) continue;
      acceptedState[section] = patch;
      if (patch === null) {
        delete next[section];
        delete next.metadata[section];
        acceptedMeta[section] = { timestamp: now };
      } else {
        const merged = merge(next[section] ?? {}, next.metadata[section] ?? {}, patch, now);
        next[section] = merged.state;
        next.metadata[section] = merged.metadata;
        acceptedMeta[section] = stamp(patch, now) as Metadata;
      }
    }
    accepted = {
      state: acceptedState,
      metadata: acceptedMeta,
      version: next.version,
      timestamp: now,
      ...token,
    };
  }
  const size =
    Buffer.byteLength(JSON.stringify(next.desired ?? {})) +
    Buffer.byteLength(JSON.stringify(next.reported ?? {}));
  if (size > MAX_STATE_BYTES) throw new ShadowError(413, 'The payload exceeds the maximum size allowed');

  const delta = computeDelta(next.desired, next.reported);
  const announceDelta = delta !== undefined && request.state !== null && request.state.desired !== undefined;
  const before = exists(previous) ? sections(previous) : { state: {}, metadata: {} };
  const after = sections(next);
  return {
    shadow: next,
    accepted,
    ...(announceDelta
      ? {
          delta: {
            state: delta,
            metadata: deltaMetadata(delta, next.metadata.desired),
            version: next.version,
            timestamp: now,
            ...token,
          },
        }
      : {}),
    documents: {
      previous: { ...before, version: previous.version },
      current: { ...after, version: next.version },
      timestamp: now,
      ...token,
    },
  };
}

/** DeleteThingShadow / `delete/accepted`; the version counter is kept. */
export function applyDelete(
  current: StoredShadow | undefined,
  shadowName: string,
  clientToken: string | undefined,
  now: number,
): { shadow: StoredShadow; accepted: object } {
  if (!exists(current)) throw new ShadowError(404, notFoundMessage(shadowName));
  return {
    shadow: { metadata: {}, version: current.version, timestamp: now, deleted: true },
    accepted: {
      version: current.version,
      timestamp: now,
      ...(clientToken !== undefined ? { clientToken } : {}),
    },
  };
}

export function errorDocument(err: ShadowError, clientToken: string | undefined, now: number): object {
  return {
    code: err.code,
    message: err.message,
    timestamp: now,
    ...(clientToken !== undefined ? { clientToken } : {}),
  };
}
