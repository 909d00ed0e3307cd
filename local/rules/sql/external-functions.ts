/**
 * The IoT SQL external functions (AWS IoT Developer Guide, "Functions": aws_lambda,
 * get_thing_shadow, get_registry_data, get_secret, get_dynamodb, machinelearning_predict, and
 * decode(*, 'proto', ...)), run against the local services that stand in for the ones they
 * call: Lambda, the Device Shadow service, the IoT registry and, when the local cloud has it,
 * Secrets Manager.
 *
 * A call that fails (no such function, shadow or secret; a function error; no local stand-in
 * for the service, as for DynamoDB, Amazon Machine Learning and S3) fails the rule's SQL:
 * AWS's "Error handling (error action)" page says its error handling is for rule actions and
 * SQL problems "including external functions" are found through AWS IoT logging, and the
 * get_dynamodb reference says a failing call makes "the rule terminate without invoking any
 * actions". So no action runs and no errorAction is invoked; the engine logs the failure as
 * AWS IoT logging would. get_or_default() turns such a failure into its default value.
 *
 * LIMITATIONS versus AWS: role ARNs are not checked (no IAM locally); get_secret does not
 * cache (AWS caches each secret "up to 15 minutes", so a changed secret is seen at once
 * here); aws_lambda's 2000 ms budget is applied to the whole invocation including a cold start.
 */
import type { ExternalCall } from './evaluator';
import { RawPayload } from './evaluator';
import { type SqlValue, serialize, typeOf } from './values';

/** The local services external functions reach. A missing one makes its functions fail. */
export interface ExternalServices {
  /** Synchronous invoke (RequestResponse); `functionError` set means the function failed. */
  invokeLambda?(functionArn: string, payload: unknown): Promise<{ functionError?: string; payload: unknown }>;
  /** GetThingShadow's document; rejects when there is no such thing or shadow. */
  getThingShadow?(thingName: string, shadowName: string | undefined): Promise<unknown>;
  /** DescribeThing's response; rejects for an unknown thing. */
  describeThing?(thingName: string): Promise<unknown>;
  /** ListThingGroupsForThing's response. */
  listThingGroupsForThing?(thingName: string): Promise<unknown>;
  /** The AWSCURRENT version of a secret, by name or ARN; rejects when there is none. */
  getSecretValue?(secretId: string): Promise<{ secretString?: string; secretBinary?: Buffer }>;
}

/** An external function call that failed: the rule's SQL fails with this message. */
export class ExternalFunctionError extends Error {
  override readonly name = 'ExternalFunctionError';
}

/** aws_lambda's execution budget (AWS IoT Developer Guide, "Functions" > aws_lambda). */
export const AWS_LAMBDA_TIMEOUT_MS = 2000;

const fail = (name: string, reason: string): never => {
  throw new ExternalFunctionError(`${name}(): ${reason}`);
};

const text = (name: string, what: string, v: SqlValue): string => {
  if (typeof v !== 'string' || v === '')
    fail(name, `${what} must be a non-empty string, got ${serialize(v) || typeOf(v)}`);
  return v as string;
};

function need<K extends keyof ExternalServices>(
  services: ExternalServices,
  key: K,
  name: string,
  service: string,
): NonNullable<ExternalServices[K]> {
  const f = services[key];
  if (!f)
    fail(
      name,
      `the local cloud has no ${service}, so the call fails as it would on AWS without access to it`,
    );
  return f!.bind(services) as NonNullable<ExternalServices[K]>;
}

async function withTimeout<T>(work: Promise<T>, ms: number, name: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new ExternalFunctionError(`${name}(): no answer within ${ms} ms`)),
          ms,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Makes one external call against the local services; rejects with ExternalFunctionError. */
export async function callExternal(
  call: ExternalCall,
  services: ExternalServices,
  options: { readonly lambdaTimeoutMs?: number } = {},
): Promise<SqlValue> {
  const { name, args } = call;
  try {
    return await dispatch(name, args, services, options.lambdaTimeoutMs ?? AWS_LAMBDA_TIMEOUT_MS);
  } catch (err) {
    if (err instanceof ExternalFunctionError) throw err;
    throw new ExternalFunctionError(`${name}(): ${err instanceof Error ? err.message : String(err)}`);
  }
}

async function dispatch(
  name: string,
  args: readonly SqlValue[],
  services: ExternalServices,
  lambdaTimeoutMs: number,
): Promise<SqlValue> {
  switch (name) {
    case 'aws_lambda': {
      // aws_lambda(functionArn, inputJson): the function's JSON result.
      const arn = text(name, 'functionArn', args[0]);
      const input = args[1];
      if (input instanceof RawPayload || Buffer.isBuffer(input))
        fail(name, 'the input must be JSON; the payload is binary');
      if (input === undefined) fail(name, 'the input is Undefined');
      const invoke = need(services, 'invokeLambda', name, 'Lambda');
      const result = await withTimeout(invoke(arn, input), lambdaTimeoutMs, name);
      if (result.functionError) {
        const p = result.payload as { errorType?: string; errorMessage?: string } | undefined;
        fail(
          name,
          `${arn} failed (${result.functionError}): ${p?.errorType ?? 'Error'}: ${p?.errorMessage ?? serialize(result.payload)}`,
        );
      }
      return result.payload as SqlValue;
    }
    case 'get_thing_shadow': {
      // get_thing_shadow(thingName[, shadowName], roleArn)
      const thing = text(name, 'thingName', args[0]);
      const shadow = args.length === 3 ? text(name, 'shadowName', args[1]) : undefined;
      return (await need(
        services,
        'getThingShadow',
        name,
        'Device Shadow service',
      )(thing, shadow)) as SqlValue;
    }
    case 'get_registry_data': {
      // get_registry_data(registryAPI, thingName, roleArn): DescribeThing or ListThingGroupsForThing.
      const api = text(name, 'registryAPI', args[0]);
      const thing = text(name, 'thingName', args[1]);
      if (api === 'DescribeThing')
        return (await need(services, 'describeThing', name, 'IoT registry')(thing)) as SqlValue;
      if (api === 'ListThingGroupsForThing') {
        return (await need(services, 'listThingGroupsForThing', name, 'IoT registry')(thing)) as SqlValue;
      }
      return fail(name, `registryAPI must be DescribeThing or ListThingGroupsForThing, got '${api}'`);
    }
    case 'get_secret':
      return getSecret(args, services);
    case 'get_dynamodb':
      return fail(name, 'the local cloud has no DynamoDB, so the table cannot be read');
    case 'machinelearning_predict':
      return fail(name, 'the local cloud has no Amazon Machine Learning, so no model can predict');
    case 'decode':
      return fail(
        name,
        'decoding Protobuf reads the descriptor set from Amazon S3, which the local cloud does not have',
      );
    default:
      return fail(name, 'not an external function');
  }
}

/**
 * get_secret(secretId, secretType, [key], roleArn): SecretString (the whole JSON object, one
 * key of it, or the text of a non-JSON secret) or SecretBinary as base64; a key on a non-JSON
 * or binary secret "fails with an exception", as the reference says.
 */
async function getSecret(args: readonly SqlValue[], services: ExternalServices): Promise<SqlValue> {
  const name = 'get_secret';
  const id = text(name, 'secretId', args[0]);
  const type = text(name, 'secretType', args[1]);
  if (type !== 'SecretString' && type !== 'SecretBinary')
    fail(name, `secretType must be SecretString or SecretBinary, got '${type}'`);
  const key = args.length === 4 ? text(name, 'key', args[2]) : undefined;
  const secret = await need(services, 'getSecretValue', name, 'Secrets Manager')(id);
  if (type === 'SecretBinary') {
    if (key !== undefined) fail(name, 'a key cannot be read from SecretBinary');
    if (!secret.secretBinary) fail(name, `secret ${id} has no SecretBinary`);
    return secret.secretBinary!.toString('base64');
  }
  if (secret.secretString === undefined) fail(name, `secret ${id} has no SecretString`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(secret.secretString!);
  } catch {
    parsed = undefined;
  }
  const isObject = typeOf(parsed) === 'Object';
  if (key === undefined) return isObject ? (parsed as SqlValue) : secret.secretString!;
  if (!isObject) fail(name, `secret ${id} is not a JSON object, so it has no key '${key}'`);
  const value = (parsed as Record<string, unknown>)[key];
  if (value === undefined) fail(name, `secret ${id} has no key '${key}'`);
  return value as SqlValue;
}
