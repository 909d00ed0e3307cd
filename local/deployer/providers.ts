import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { CloudIdentity } from '../common/account';
import type { LocalLogger } from '../common/log';
import type { IotRegistry } from '../iot/registry';
import type { LambdaService } from '../lambda/types';
import type { RulesService } from '../rules';
import { normaliseTopicRulePayload } from '../rules/payload';
import type { EventSourceMapping, SqsService } from '../sqs/types';
import type { TimestreamService } from '../timestream';
import type { ApplyRequest, ApplyResult, ResourceProvider } from './deployer';

/**
 * How each CloudFormation resource type of the pipeline becomes a resource of the local
 * services. Each provider follows the resource's CloudFormation reference page for what
 * `Ref` and `Fn::GetAtt` return. Types with no local effect (IAM, CloudWatch, SNS, Logs, ...)
 * are accepted with AWS-shaped identifiers and reported as "not emulated".
 *
 * LIMITATIONS versus AWS: IAM roles and policies, Lambda resource policies, CloudWatch alarms
 * and dashboards, SNS, log groups and custom resources have no local effect. A changed IoT
 * policy replaces the stored document (AWS would create a new policy version).
 */

export interface LocalServices {
  readonly identity: CloudIdentity;
  readonly logger: LocalLogger;
  readonly iot: IotRegistry;
  readonly rules: RulesService;
  readonly sqs: SqsService;
  readonly lambda: LambdaService;
  readonly timestream: TimestreamService;
  /** The cloud assembly directory, for `aws:asset:path` metadata. */
  readonly assemblyDir: string;
}

type Props = Record<string, unknown>;
const str = (v: unknown) => (v === undefined || v === null ? undefined : String(v));
const num = (v: unknown) => (v === undefined || v === null || v === '' ? undefined : Number(v));

export function localProviders(s: LocalServices): {
  providers: Record<string, ResourceProvider>;
  fallback: ResourceProvider;
} {
  const { identity } = s;
  const arn = (service: string, resource: string) =>
    `arn:aws:${service}:${identity.region}:${identity.accountId}:${resource}`;
  const mappings = new Map<string, EventSourceMapping>();

  const thing: ResourceProvider = {
    async apply(req) {
      const p = req.properties;
      const thingName = str(p.ThingName) ?? req.physicalName(128);
      const attributes = ((p.AttributePayload as Props | undefined)?.Attributes ?? {}) as Record<
        string,
        string
      >;
      const existing = safe(() => s.iot.describeThing(thingName));
      if (existing) s.iot.updateThing({ thingName, attributes });
      const created = existing ? existing : s.iot.createThing({ thingName, attributes });
      return { ref: thingName, attributes: { Arn: created.thingArn, Id: created.thingId }, emulated: true };
    },
    async remove(res) {
      safe(() => s.iot.deleteThing(res.ref));
    },
  };

  const policy: ResourceProvider = {
    async apply(req) {
      const p = req.properties;
      const policyName = str(p.PolicyName) ?? req.physicalName(128);
      const document = JSON.stringify(p.PolicyDocument);
      const existing = safe(() => s.iot.getPolicy(policyName));
      if (existing && existing.policyDocument !== document) {
        replacePolicyDocument(s.iot, policyName, document);
      } else if (!existing) {
        s.iot.createPolicy(policyName, document);
      }
      const stored = s.iot.getPolicy(policyName);
      return { ref: policyName, attributes: { Arn: stored.policyArn, Id: policyName }, emulated: true };
    },
    async remove(res) {
      safe(() => s.iot.deletePolicy(res.ref));
    },
  };

  const certificate: ResourceProvider = {
    async apply(req) {
      const p = req.properties;
      const status = str(p.Status) ?? 'INACTIVE';
      const prev = req.previous ? safe(() => s.iot.describeCertificate(req.previous!.ref)) : undefined;
      const sameCsr = prev && req.previous?.attributes.csr === hashText(str(p.CertificateSigningRequest));
      if (prev && sameCsr) {
        // As CloudFormation, an unchanged resource is left alone: a certificate an operator
        // revoked or deactivated since the last deploy stays so. A revoked one never returns.
        if (!req.unchanged && prev.status !== status && prev.status !== 'REVOKED') {
          s.iot.updateCertificate(prev.certificateId, status);
        }
        return {
          ref: prev.certificateId,
          attributes: { Arn: prev.certificateArn, Id: prev.certificateId, csr: req.previous!.attributes.csr },
          emulated: true,
        };
      }
      const csr = str(p.CertificateSigningRequest);
      if (!csr) {
        throw new Error('only certificates from a CertificateSigningRequest can be created locally');
      }
      const created = await s.iot.createCertificateFromCsr(csr, status === 'ACTIVE');
      if (prev) {
        // CloudFormation replaces a certificate whose CSR changed; the old one is retired.
        safe(() => s.iot.updateCertificate(prev.certificateId, 'INACTIVE'));
      }
      return {
        ref: created.certificateId,
        attributes: { Arn: created.certificateArn, Id: created.certificateId, csr: hashText(csr) },
        emulated: true,
      };
    },
    async remove(res) {
      safe(() => s.iot.updateCertificate(res.ref, 'INACTIVE'));
    },
  };

  const thingPrincipal: ResourceProvider = {
    async apply(req) {
      const p = req.properties;
      const thingName = str(p.ThingName)!;
      const principal = str(p.Principal)!;
      if (req.previous && !req.unchanged) detachThing(s.iot, req.previous.attributes);
      const type = (str(p.ThingPrincipalType) ?? 'NON_EXCLUSIVE_THING') as
        | 'EXCLUSIVE_THING'
        | 'NON_EXCLUSIVE_THING';
      s.iot.attachThingPrincipal(thingName, principal, type);
      return { ref: `${thingName}|${principal}`, attributes: { thingName, principal }, emulated: true };
    },
    async remove(res) {
      detachThing(s.iot, res.attributes);
    },
  };

  const policyPrincipal: ResourceProvider = {
    async apply(req) {
      const p = req.properties;
      const policyName = str(p.PolicyName)!;
      const principal = str(p.Principal)!;
      if (req.previous && !req.unchanged) detachPolicy(s.iot, req.previous.attributes);
      s.iot.attachPolicy(policyName, principal);
      return { ref: `${policyName}|${principal}`, attributes: { policyName, principal }, emulated: true };
    },
    async remove(res) {
      detachPolicy(s.iot, res.attributes);
    },
  };

  const topicRule: ResourceProvider = {
    async apply(req) {
      const p = req.properties;
      const ruleName = str(p.RuleName) ?? req.physicalName(128, '_');
      const payload = normaliseTopicRulePayload(p.TopicRulePayload);
      // The engine validates SQL and actions first, so an unsupported rule fails the deploy.
      s.rules.putRule(ruleName, payload);
      const exists = safe(() => s.iot.getTopicRule(ruleName));
      const record = exists
        ? s.iot.replaceTopicRule(ruleName, payload)
        : s.iot.createTopicRule(ruleName, payload);
      return { ref: ruleName, attributes: { Arn: record.ruleArn }, emulated: true };
    },
    async remove(res) {
      s.rules.deleteRule(res.ref);
      safe(() => s.iot.deleteTopicRule(res.ref));
    },
  };

  const queue: ResourceProvider = {
    async apply(req) {
      const p = req.properties;
      const fifo = p.FifoQueue === true || p.FifoQueue === 'true';
      const name = str(p.QueueName) ?? req.physicalName(fifo ? 75 : 80) + (fifo ? '.fifo' : '');
      const attributes: Record<string, string> = {};
      for (const key of [
        'VisibilityTimeout',
        'MessageRetentionPeriod',
        'DelaySeconds',
        'MaximumMessageSize',
        'ReceiveMessageWaitTimeSeconds',
      ]) {
        if (p[key] !== undefined) attributes[key] = String(p[key]);
      }
      if (p.RedrivePolicy) attributes.RedrivePolicy = JSON.stringify(p.RedrivePolicy);
      const exists = s.sqs.listQueues().some((q) => q.name === name);
      const url = exists ? s.sqs.queueUrlOf(name) : await s.sqs.createQueue(name, attributes);
      if (exists && Object.keys(attributes).length > 0) await s.sqs.setQueueAttributes(url, attributes);
      return {
        ref: url,
        attributes: { Arn: s.sqs.queueArnOf(name), QueueName: name, QueueUrl: url },
        emulated: true,
      };
    },
    async remove(res) {
      await s.sqs.deleteQueue(res.ref).catch(() => {});
    },
  };

  const fn: ResourceProvider = {
    async apply(req) {
      const p = req.properties;
      const functionName = str(p.FunctionName) ?? req.physicalName(64);
      const functionArn = arn('lambda', `function:${functionName}`);
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
      });
      return { ref: functionName, attributes: { Arn: functionArn }, emulated: true };
    },
    async remove(res) {
      await s.lambda.deleteFunction(res.ref).catch(() => {});
    },
  };

  const eventSourceMapping: ResourceProvider = {
    async apply(req) {
      const p = req.properties;
      const old = mappings.get(`${req.stackName}/${req.logicalId}`);
      if (old) await old.close();
      const sourceArn = str(p.EventSourceArn) ?? '';
      if (!sourceArn.startsWith('arn:aws:sqs:')) {
        throw new Error(
          `event source ${sourceArn || '(none)'} is not an SQS queue; only SQS event sources run locally`,
        );
      }
      const target = str(p.FunctionName)!;
      const functionArn = target.startsWith('arn:') ? target : arn('lambda', `function:${target}`);
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
      );
      mappings.set(`${req.stackName}/${req.logicalId}`, mapping);
      return { ref: mapping.uuid, attributes: { Id: mapping.uuid }, emulated: true };
    },
    async remove(res) {
      const key = `${res.stackName}/${res.logicalId}`;
      await mappings.get(key)?.close();
      mappings.delete(key);
    },
  };

  const database: ResourceProvider = {
    async apply(req) {
      const name = str(req.properties.DatabaseName) ?? req.physicalName(64);
      await s.timestream.createDatabase(name);
      return { ref: name, attributes: { Arn: arn('timestream', `database/${name}`) }, emulated: true };
    },
  };

  const table: ResourceProvider = {
    async apply(req) {
      const p = req.properties;
      const db = str(p.DatabaseName)!;
      const name = str(p.TableName) ?? req.physicalName(64);
      const retention = (p.RetentionProperties ?? {}) as Props;
      const magnetic = (p.MagneticStoreWriteProperties ?? {}) as Props;
      await s.timestream.createTable(db, name, {
        memoryStoreRetentionHours: retention.MemoryStoreRetentionPeriodInHours as string | undefined,
        magneticStoreRetentionDays: retention.MagneticStoreRetentionPeriodInDays as string | undefined,
        enableMagneticStoreWrites: magnetic.EnableMagneticStoreWrites as boolean | undefined,
      });
      return {
        ref: `${db}|${name}`,
        attributes: { Arn: arn('timestream', `database/${db}/table/${name}`), Name: name },
        emulated: true,
      };
    },
  };

  const role: ResourceProvider = {
    async apply(req) {
      const name = str(req.properties.RoleName) ?? req.physicalName(64);
      return {
        ref: name,
        attributes: {
          Arn: `arn:aws:iam::${identity.accountId}:role/${name}`,
          RoleId: `AROA${hashText(name).slice(0, 17)}`,
        },
        emulated: false,
        note: 'IAM is not enforced locally',
      };
    },
  };

  const fallback: ResourceProvider = {
    async apply(req: ApplyRequest): Promise<ApplyResult> {
      const name = req.physicalName(64);
      const service = req.type.split('::')[1]?.toLowerCase() ?? 'unknown';
      const resourceArn = arn(service, name);
      return {
        ref: req.type === 'AWS::SNS::Topic' ? resourceArn : name,
        attributes: { Arn: resourceArn, TopicArn: resourceArn, TopicName: name, Name: name },
        emulated: false,
        note: notEmulatedReason(req.type),
      };
    },
  };

  return {
    providers: {
      'AWS::IoT::Thing': thing,
      'AWS::IoT::Policy': policy,
      'AWS::IoT::Certificate': certificate,
      'AWS::IoT::ThingPrincipalAttachment': thingPrincipal,
      'AWS::IoT::PolicyPrincipalAttachment': policyPrincipal,
      'AWS::IoT::TopicRule': topicRule,
      'AWS::SQS::Queue': queue,
      'AWS::Lambda::Function': fn,
      'AWS::Lambda::EventSourceMapping': eventSourceMapping,
      'AWS::Timestream::Database': database,
      'AWS::Timestream::Table': table,
      'AWS::IAM::Role': role,
    },
    fallback,
  };
}

function notEmulatedReason(type: string): string {
  if (type.startsWith('AWS::IAM::')) return 'IAM is not enforced locally';
  if (type === 'AWS::Lambda::Permission') return 'resource policies are not enforced locally';
  if (type.startsWith('AWS::CloudWatch::')) return 'no CloudWatch locally';
  if (type.startsWith('AWS::Logs::')) return 'function logs go to the local cloud console';
  if (type.startsWith('AWS::SNS::')) return 'no SNS locally (alarm notifications only)';
  if (type.startsWith('AWS::SQS::QueuePolicy')) return 'queue policies are not enforced locally';
  if (type.startsWith('Custom::') || type === 'AWS::CloudFormation::CustomResource')
    return 'custom resources do not run locally';
  if (type === 'AWS::CDK::Metadata') return 'CDK metadata';
  return 'no local stand-in for this type';
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

function detachThing(iot: IotRegistry, attrs: Readonly<Record<string, unknown>>): void {
  safe(() => iot.detachThingPrincipal(String(attrs.thingName), String(attrs.principal)));
}

function detachPolicy(iot: IotRegistry, attrs: Readonly<Record<string, unknown>>): void {
  safe(() => iot.detachPolicy(String(attrs.policyName), String(attrs.principal)));
}

function replacePolicyDocument(iot: IotRegistry, policyName: string, document: string): void {
  const registry = iot as IotRegistry & { replacePolicyDocument?: (name: string, doc: string) => void };
  if (!registry.replacePolicyDocument) {
    throw new Error(
      `IoT policy ${policyName} changed, and the local registry cannot store a new version of it`,
    );
  }
  registry.replacePolicyDocument(policyName, document);
}

function safe<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch {
    return undefined;
  }
}

function hashText(text: string | undefined): string {
  return createHash('sha256')
    .update(text ?? '')
    .digest('hex');
}
