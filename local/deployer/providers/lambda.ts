/**
 * Lambda resources (AWS CloudFormation User Guide: AWS::Lambda::Function, whose code is the
 * staged asset of the cloud assembly, and AWS::Lambda::EventSourceMapping from an SQS queue)
 * created in the local Lambda and SQS services.
 *
 * LIMITATIONS versus AWS: inline code and container images are refused; only SQS event
 * sources run.
 */
import { join } from 'node:path';

import { arn } from '../../common';
import type { FunctionDefinition } from '../../lambda';
import type { ApplyRequest, ResourceProvider } from '../types';
import { type LocalServices, num, type Props, str } from './shared';

export function lambdaProviders(s: LocalServices): Record<string, ResourceProvider> {
  const fn: ResourceProvider = {
    async apply(req) {
      const p = req.properties;
      const functionName = str(p.FunctionName) ?? req.physicalName(64);
      const functionArn = arn(s.identity, 'lambda', `function:${functionName}`);
      const codeDir = codeDirOf(req, s.assemblyDir);
      const environment = ((p.Environment as Props | undefined)?.Variables ?? {}) as Record<string, string>;
      await s.lambda.createFunction({
        functionName,
        arn: functionArn,
        codeDir,
        handler: str(p.Handler) ?? 'index.handler',
        runtime: str(p.Runtime) ?? 'nodejs22.x',
        timeoutSeconds: num(p.Timeout) ?? 3,
        memoryMb: num(p.MemorySize) ?? 128,
        environment: Object.fromEntries(Object.entries(environment).map(([k, v]) => [k, String(v)])),
        deadLetterTargetArn: str((p.DeadLetterConfig as Props | undefined)?.TargetArn),
        reservedConcurrency: num(p.ReservedConcurrentExecutions),
        ...reportedConfiguration(p),
      });
      return { ref: functionName, attributes: { Arn: functionArn }, emulated: true };
    },
    async remove(res) {
      await s.lambda.deleteFunction(res.ref).catch(() => {});
    },
  };

  // The running pollers belong to the SQS service (which keeps them across a restart), not to
  // this provider: the local cloud makes a fresh set of providers for every deploy, so a redeploy
  // finds the mapping it replaces by the UUID recorded at the last deploy (`previous.ref`, which
  // is also what `Ref` returns on AWS and what an update keeps).
  const eventSourceMapping: ResourceProvider = {
    async apply(req) {
      const p = req.properties;
      const sourceArn = str(p.EventSourceArn) ?? '';
      if (!sourceArn.startsWith('arn:aws:sqs:')) {
        throw new Error(
          `event source ${sourceArn || '(none)'} is not an SQS queue; only SQS event sources run locally`,
        );
      }
      const uuid = req.previous?.ref;
      const running = uuid === undefined ? undefined : s.sqs.eventSourceMapping(uuid);
      if (running && req.unchanged) {
        return { ref: running.uuid, attributes: { Id: running.uuid }, emulated: true };
      }
      if (running) await s.sqs.deleteEventSourceMapping(running.uuid);
      const target = str(p.FunctionName)!;
      const functionArn = target.startsWith('arn:')
        ? target
        : arn(s.identity, 'lambda', `function:${target}`);
      const mapping = await s.sqs.createEventSourceMapping(
        {
          queueArn: sourceArn,
          functionArn,
          batchSize: num(p.BatchSize) ?? 10,
          maximumBatchingWindowSeconds: num(p.MaximumBatchingWindowInSeconds) ?? 0,
          functionResponseTypes: (p.FunctionResponseTypes as 'ReportBatchItemFailures'[] | undefined) ?? [],
          enabled: p.Enabled === undefined ? true : p.Enabled === true || p.Enabled === 'true',
        },
        async (arnToCall, event) => {
          const result = await s.lambda.invoke(arnToCall, event, 'RequestResponse');
          return { functionError: result.functionError, payload: result.payload };
        },
        uuid === undefined ? {} : { uuid },
      );
      return { ref: mapping.uuid, attributes: { Id: mapping.uuid }, emulated: true };
    },
    async remove(res) {
      await s.sqs.deleteEventSourceMapping(res.ref);
    },
  };

  return { 'AWS::Lambda::Function': fn, 'AWS::Lambda::EventSourceMapping': eventSourceMapping };
}

/**
 * What GetFunctionConfiguration reports about a function (AWS::Lambda::Function Role,
 * Description, Architectures, TracingConfig, EphemeralStorage, LoggingConfig, Tags); none of
 * it changes how the function runs locally.
 */
function reportedConfiguration(p: Props): Partial<FunctionDefinition> {
  const logging = (p.LoggingConfig ?? {}) as Props;
  const tags = Array.isArray(p.Tags)
    ? Object.fromEntries((p.Tags as Props[]).map((t) => [String(t.Key), String(t.Value)]))
    : undefined;
  const out: Partial<Record<keyof FunctionDefinition, unknown>> = {
    role: str(p.Role),
    description: str(p.Description),
    architectures: Array.isArray(p.Architectures) ? p.Architectures.map(String) : undefined,
    tracingMode: str((p.TracingConfig as Props | undefined)?.Mode),
    ephemeralStorageMb: num((p.EphemeralStorage as Props | undefined)?.Size),
    logGroup: str(logging.LogGroup),
    logFormat: str(logging.LogFormat),
    tags,
  };
  return Object.fromEntries(
    Object.entries(out).filter(([, v]) => v !== undefined),
  ) as Partial<FunctionDefinition>;
}

function codeDirOf(req: ApplyRequest, assemblyDir: string): string {
  const assetPath = req.metadata['aws:asset:path'];
  if (typeof assetPath === 'string') return join(assemblyDir, assetPath);
  const code = (req.properties.Code ?? {}) as Props;
  const key = str(code.S3Key);
  const dir = key ? req.assetPath(key) : undefined;
  if (!dir) {
    throw new Error(
      'the function code is not a staged asset of the cloud assembly (inline code and images are not supported locally)',
    );
  }
  return dir;
}
