/**
 * The Lambda management calls that inspect what is deployed (AWS Lambda API Reference,
 * "ListFunctions", "GetFunction", "GetFunctionConfiguration", "ListEventSourceMappings",
 * "GetEventSourceMapping", and the "FunctionConfiguration" and
 * "EventSourceMappingConfiguration" data types), answered from the functions the deployer
 * created and the event source mappings that feed them.
 *
 * LIMITATIONS versus AWS:
 * - Read-only: functions and mappings change only through a deploy (no CreateFunction,
 *   UpdateFunctionCode, UpdateEventSourceMapping, ...).
 * - `$LATEST` only: a Qualifier or `name:qualifier` other than `$LATEST` is not found.
 * - CodeSha256 and CodeSize describe the staged asset directory (every file, in path order),
 *   not a zip package, so they differ from AWS's figures for the same code; they change
 *   exactly when the code does. GetFunction's Code.Location is a `file://` URL of that
 *   directory, where AWS gives a presigned S3 URL of the zip.
 * - State is always Active and LastUpdateStatus Successful (a function is usable as soon as
 *   it is created locally).
 */
import { arn, type CloudIdentity } from '../common';
import { eventSourceMappingNotFound, functionNotFound, invalidParameterValue } from './errors';
import type { EventSourceMappingView, FunctionInfo } from './types';

/** The FunctionConfiguration data type for a deployed function. */
export function functionConfiguration(info: FunctionInfo): Record<string, unknown> {
  const d = info.definition;
  return {
    FunctionName: d.functionName,
    FunctionArn: d.arn,
    Runtime: d.runtime,
    ...(d.role ? { Role: d.role } : {}),
    Handler: d.handler,
    CodeSize: info.codeSize,
    Description: d.description ?? '',
    Timeout: d.timeoutSeconds ?? 3,
    MemorySize: d.memoryMb ?? 128,
    LastModified: info.lastModified,
    CodeSha256: info.codeSha256,
    Version: '$LATEST',
    ...(d.environment && Object.keys(d.environment).length > 0
      ? { Environment: { Variables: { ...d.environment } } }
      : {}),
    ...(d.deadLetterTargetArn ? { DeadLetterConfig: { TargetArn: d.deadLetterTargetArn } } : {}),
    TracingConfig: { Mode: d.tracingMode ?? 'PassThrough' },
    RevisionId: info.revisionId,
    State: 'Active',
    LastUpdateStatus: 'Successful',
    PackageType: 'Zip',
    Architectures: d.architectures && d.architectures.length > 0 ? [...d.architectures] : ['x86_64'],
    EphemeralStorage: { Size: d.ephemeralStorageMb ?? 512 },
    SnapStart: { ApplyOn: 'None', OptimizationStatus: 'Off' },
    LoggingConfig: {
      LogFormat: d.logFormat ?? 'Text',
      LogGroup: d.logGroup ?? `/aws/lambda/${d.functionName}`,
    },
  };
}

/** GetFunction's answer: the configuration, where the code is, tags and reserved concurrency. */
export function getFunctionOutput(info: FunctionInfo): Record<string, unknown> {
  const d = info.definition;
  return {
    Configuration: functionConfiguration(info),
    Code: { RepositoryType: 'S3', Location: `file://${d.codeDir}` },
    ...(d.tags && Object.keys(d.tags).length > 0 ? { Tags: { ...d.tags } } : {}),
    ...(d.reservedConcurrency !== undefined
      ? { Concurrency: { ReservedConcurrentExecutions: d.reservedConcurrency } }
      : {}),
  };
}

/**
 * A function name as the API takes it (Lambda API Reference, "GetFunction" > FunctionName):
 * a name, a full or partial ARN, each optionally with `:qualifier`; the Qualifier parameter
 * may name the version too. Only `$LATEST` exists locally.
 */
export function parseFunctionName(raw: string, qualifier?: string): { name: string; qualifier?: string } {
  const m =
    /^(?:arn:aws[\w-]*:lambda:[^:]*:)?(?:\d{12}:)?(?:function:)?([A-Za-z0-9_-]{1,140})(?::([\w$-]+))?$/.exec(
      raw,
    );
  if (!m) {
    throw invalidParameterValue(
      `1 validation error detected: Value '${raw.slice(0, 200)}' at 'functionName' failed to satisfy constraint: Member must be a function name, a function ARN or a partial ARN`,
    );
  }
  const named = m[2];
  if (named !== undefined && qualifier !== undefined && named !== qualifier) {
    throw invalidParameterValue(
      `The derived qualifier from the function name ('${named}') does not match the specified qualifier ('${qualifier}')`,
    );
  }
  const q = named ?? qualifier;
  return { name: m[1]!, ...(q !== undefined ? { qualifier: q } : {}) };
}

/** Finds a deployed function for a management call, or throws ResourceNotFoundException as Lambda does. */
export function findFunction(
  functions: readonly FunctionInfo[],
  identity: CloudIdentity,
  raw: string,
  qualifier?: string,
): FunctionInfo {
  const { name, qualifier: q } = parseFunctionName(raw, qualifier);
  const info = functions.find((f) => f.definition.functionName === name);
  if (!info || (q !== undefined && q !== '$LATEST')) {
    throw functionNotFound(arn(identity, 'lambda', `function:${name}${q !== undefined ? `:${q}` : ''}`));
  }
  return info;
}

/** A page of a listing with Lambda's Marker/MaxItems paging (the marker is the next item's position). */
export function page<T>(
  items: readonly T[],
  marker: string | null,
  maxItems: string | null,
  largestPage: number,
): { items: T[]; nextMarker?: string } {
  let start = 0;
  if (marker !== null && marker !== '') {
    start = Number(Buffer.from(marker, 'base64url').toString());
    if (!Number.isInteger(start) || start < 0) throw invalidParameterValue(`Invalid marker: ${marker}`);
  }
  let size = largestPage;
  if (maxItems !== null) {
    const n = Number(maxItems);
    if (!Number.isInteger(n) || n < 1 || n > 10_000) {
      throw invalidParameterValue(
        `1 validation error detected: Value '${maxItems}' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 10000`,
      );
    }
    size = Math.min(n, largestPage);
  }
  const slice = items.slice(start, start + size);
  const end = start + slice.length;
  return end < items.length
    ? { items: slice, nextMarker: Buffer.from(String(end)).toString('base64url') }
    : { items: slice };
}

/** The EventSourceMappingConfiguration data type; LastModified is epoch seconds, as Lambda sends it. */
export function eventSourceMappingConfiguration(
  m: EventSourceMappingView,
  identity: CloudIdentity,
): Record<string, unknown> {
  return {
    UUID: m.uuid,
    BatchSize: m.batchSize,
    MaximumBatchingWindowInSeconds: m.maximumBatchingWindowSeconds,
    EventSourceArn: m.eventSourceArn,
    FunctionArn: m.functionArn,
    LastModified: m.lastModified / 1000,
    State: m.enabled ? 'Enabled' : 'Disabled',
    StateTransitionReason: 'USER_INITIATED',
    ...(m.functionResponseTypes.length > 0 ? { FunctionResponseTypes: [...m.functionResponseTypes] } : {}),
    EventSourceMappingArn: arn(identity, 'lambda', `event-source-mapping:${m.uuid}`),
  };
}

/** ListEventSourceMappings filters: EventSourceArn and FunctionName (name, ARN or partial ARN). */
export function filterEventSourceMappings(
  mappings: readonly EventSourceMappingView[],
  eventSourceArn: string | null,
  functionName: string | null,
): EventSourceMappingView[] {
  const fn = functionName ? parseFunctionName(functionName).name : undefined;
  return mappings.filter(
    (m) =>
      (eventSourceArn === null || m.eventSourceArn === eventSourceArn) &&
      (fn === undefined || parseFunctionName(m.functionArn).name === fn),
  );
}

export function findEventSourceMapping(
  mappings: readonly EventSourceMappingView[],
  uuid: string,
): EventSourceMappingView {
  const m = mappings.find((x) => x.uuid === uuid);
  if (!m) throw eventSourceMappingNotFound(uuid);
  return m;
}
