import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ENDPOINTS_FILE, type LocalEndpoints } from '../contracts';
import { createAdminRoute } from './admin';
import { type BrokerService, createBrokerService } from './broker';
import { type CaService, createCaService } from './ca';
import {
  AwsServiceError,
  type CloudIdentity,
  consoleLogger,
  DEFAULT_IDENTITY,
  errorText,
  type LocalLogger,
  lockStateDir,
  writeFileAtomic,
} from './common';
import type { DeployResult } from './deployer/types';
import { createGatewayService, type GatewayService, type ServiceRoute } from './gateway';
import { deferInfluxDbService } from './influxdb/deferred';
import type { InfluxDbService } from './influxdb/types';
import {
  compilePolicies,
  createIotService,
  describeThingOutput,
  type IotService,
  type TopicRuleRecord,
} from './iot';
import { deferLambdaService } from './lambda/deferred';
import type { LambdaService } from './lambda/types';
import { createProvisioningService, type ProvisioningService } from './provisioning';
import { compileRule, createRulesService, type RulesService } from './rules';
import { createSecretsManagerService, type SecretsManagerService } from './secretsmanager';
import { createShadowService, type ShadowService } from './shadow';
import { createSqsService, type SqsService } from './sqs';
import { createStsService } from './sts';
import { deferTimestreamService } from './timestream/deferred';
import type { TimestreamService } from './timestream/types';

/**
 * The local cloud: every service the pipeline uses, started in dependency order in one
 * process and sharing one state dir, so the synthesized template runs on a laptop:
 *   CA -> IoT registry -> API gateway -> broker (mTLS + IoT policies) -> Device Shadow ->
 *   SQS -> Timestream -> Secrets Manager -> Timestream for InfluxDB -> Lambda -> rules engine.
 * The gateway answers the AWS SDK and CLI for iot, iot-data, sqs, timestream and lambda on one
 * port; the broker answers MQTT over TLS on another. `close()` stops them in reverse order.
 *
 * Start-up cost and idle memory: what serves devices (CA, registry, broker, shadows,
 * provisioning, rules) and SQS start with the cloud. Timestream (DuckDB), Lambda and
 * Timestream for InfluxDB start on first use when their state dir is empty (./<service>/deferred):
 * their routes match requests without their code, and the first request, event, deploy or
 * in-process call that needs one waits while it starts. A service with state on disk starts
 * with the cloud, as before (queued work resumes, damaged state refuses the start). The deployer
 * loads with the first deploy. `<stateDir>/cloud.lock` keeps a second cloud off the state dir.
 */

export interface LocalCloudOptions {
  /** Where all state lives (CA, registry, shadows, queues, readings). */
  readonly stateDir: string;
  /** MQTT over TLS port; 0 picks a free one. */
  readonly mqttPort: number;
  /** AWS API port; 0 picks a free one. */
  readonly apiPort: number;
  readonly host?: string;
  readonly logger?: LocalLogger;
  readonly identity?: CloudIdentity;
  /** Async invocation retry delays (AWS: about 1 and 2 minutes). */
  readonly asyncRetryDelaysMs?: readonly number[];
  /**
   * Whether the account may use Amazon Timestream for LiveAnalytics. AWS closed it to new
   * customers on 2025-06-20 (Timestream Developer Guide, "Amazon Timestream for LiveAnalytics
   * availability change"): `closed` plays such an account, whose Timestream calls and stack
   * resources are refused with AccessDeniedException, for `zonectl doctor` and its tests.
   * Default `open` (an existing customer).
   */
  readonly liveAnalytics?: LiveAnalyticsAccess;
  /**
   * How long `close()` waits for accepted messages to reach their actions before it stops;
   * what is left stays journaled and is handled after the next start. Default 10 s.
   */
  readonly drainTimeoutMs?: number;
}

export type LiveAnalyticsAccess = 'open' | 'closed';

/**
 * What the local cloud answers a closed account's Timestream call. AWS's exact wording for such
 * an account is not documented in the sources this project could consult (a field report
 * speaks of "an error message that says to contact AWS Support"); the code is the service's
 * AccessDeniedException.
 */
export const LIVE_ANALYTICS_CLOSED_MESSAGE =
  'Amazon Timestream for LiveAnalytics is no longer open to new customers, and this account has not used it; contact AWS Support, or use Amazon Timestream for InfluxDB';

export interface LocalCloud {
  readonly endpoints: LocalEndpoints;
  readonly stateDir: string;
  readonly identity: CloudIdentity;
  readonly logger: LocalLogger;
  readonly ca: CaService;
  readonly iot: IotService;
  readonly broker: BrokerService;
  readonly shadow: ShadowService;
  readonly sqs: SqsService;
  readonly timestream: TimestreamService;
  readonly secrets: SecretsManagerService;
  readonly influxdb: InfluxDbService;
  readonly lambda: LambdaService;
  readonly rules: RulesService;
  readonly provisioning: ProvisioningService;
  readonly gateway: GatewayService;
  /** Deploys (or redeploys) the stacks of a synthesized cloud assembly. */
  deploy(assemblyDir: string): Promise<DeployResult>;
  /** Serves an extra route (e.g. the dashboard) on the API port. */
  addRoute(route: ServiceRoute): void;
  close(): Promise<void>;
}

export async function startLocalCloud(options: LocalCloudOptions): Promise<LocalCloud> {
  const stateDir = resolve(options.stateDir);
  mkdirSync(stateDir, { recursive: true });
  const logger = options.logger ?? consoleLogger();
  const identity = options.identity ?? DEFAULT_IDENTITY;
  const host = options.host ?? '127.0.0.1';
  const closers: Array<() => Promise<void>> = [];
  const drainTimeoutMs = options.drainTimeoutMs ?? 10_000;
  let intake: BrokerService | undefined;
  let closing: Promise<void> | undefined;
  const closeAll = () => {
    closing ??= stopAll();
    return closing;
  };
  const stopAll = async () => {
    if (intake) {
      // First no new device work, then the accepted work finishes (or stays journaled).
      try {
        await intake.stopAccepting();
        const waiting = intake.pendingMessages();
        if (waiting > 0) {
          logger.info(
            `stopping: waiting up to ${drainTimeoutMs} ms for ${waiting} accepted message(s) to reach their actions`,
          );
        }
        const left = await intake.drain(drainTimeoutMs);
        if (left > 0) {
          logger.warn(
            `stopping with ${left} accepted message(s) whose actions did not finish within ${drainTimeoutMs} ms; they stay journaled in ${join(stateDir, 'broker')} and are handled after the next start`,
          );
        } else if (waiting > 0) logger.info('stopping: every accepted message reached its actions');
      } catch (err) {
        logger.warn(`error while draining the broker: ${errorText(err)}`);
      }
    }
    for (const close of closers.reverse()) {
      try {
        await close();
      } catch (err) {
        logger.warn(`error while stopping: ${errorText(err)}`);
      }
    }
  };

  let lambdaNeverStarts: () => void = () => {};
  try {
    closers.push(wrapUnsubscribe(lockStateDir(stateDir)));
    const ca = await createCaService({ dir: join(stateDir, 'ca'), logger: logger.child('ca') });
    closers.push(() => ca.close());
    const iot = await createIotService({
      stateDir,
      ca,
      identity,
      logger: logger.child('iot'),
      validateRuleSql: (sql, version) => {
        try {
          compileRule(sql, version);
          return undefined;
        } catch (err) {
          return (err as Error).message;
        }
      },
    });
    closers.push(() => iot.close());

    const gateway = await createGatewayService({
      host,
      port: options.apiPort,
      routes: [],
      // Routes are added as their services start; a request before then is told to retry.
      starting: true,
      logger: logger.child('api'),
    });
    closers.push(() => gateway.close());

    const server = await ca.issueServerCertificate(['localhost', '127.0.0.1']);
    const broker = await createBrokerService({
      host,
      port: options.mqttPort,
      tls: { keyPem: server.keyPem, certPem: server.certPem, caPem: ca.caPem },
      directory: iot.directory,
      compile: compilePolicies,
      identity,
      stateDir,
      logger: logger.child('broker'),
    });
    closers.push(() => broker.close());
    intake = broker;

    const shadow = await createShadowService({
      bus: broker,
      directory: iot.directory,
      stateDir,
      logger: logger.child('shadow'),
    });
    closers.push(() => shadow.close());

    // Restored event source mappings invoke through the Lambda service, created next; a batch
    // they receive before it runs waits for it.
    let lambdaStarted: (lambda: LambdaService) => void = () => {};
    const lambdaReady = new Promise<LambdaService>((resolve, reject) => {
      lambdaStarted = resolve;
      // A start that fails before Lambda runs ends the waiting batches, so stopping does not
      // wait for them forever; their messages stay in the queue.
      lambdaNeverStarts = () => reject(new Error('the local cloud did not start'));
    });
    lambdaReady.catch(() => {});
    const sqs = await createSqsService({
      dir: join(stateDir, 'sqs'),
      identity,
      logger: logger.child('sqs'),
      endpoint: () => gateway.endpoint,
      invokeFunction: async (functionArn, event) => {
        const result = await (await lambdaReady).invoke(functionArn, event, 'RequestResponse');
        return { functionError: result.functionError, payload: result.payload };
      },
    });
    closers.push(() => sqs.close());

    const timestream = await deferTimestreamService({
      dir: join(stateDir, 'timestream'),
      identity,
      logger: logger.child('timestream'),
    });
    closers.push(() => timestream.close());

    const secrets = await createSecretsManagerService({
      dir: join(stateDir, 'secretsmanager'),
      identity,
      logger: logger.child('secretsmanager'),
    });
    closers.push(() => secrets.close());
    const influxdb = await deferInfluxDbService({
      dir: join(stateDir, 'influxdb'),
      identity,
      logger: logger.child('influxdb'),
      tls: { certPem: server.certPem, keyPem: server.keyPem },
      host,
    });
    closers.push(() => influxdb.close());

    const lambda = await deferLambdaService({
      dir: join(stateDir, 'lambda'),
      identity,
      logger: logger.child('lambda'),
      apiEndpoint: gateway.endpoint,
      region: identity.region,
      sendToQueue: (queueArn, body, attributes) => sqs.send(queueArn, body, attributes ? { attributes } : {}),
      extraCaFile: ca.caFile,
      eventSourceMappings: () => sqs.listEventSourceMappings(),
      ...(options.asyncRetryDelaysMs ? { asyncRetryDelaysMs: options.asyncRetryDelaysMs } : {}),
    });
    closers.push(() => lambda.close());
    lambdaStarted(lambda);

    const provisioning = await createProvisioningService({
      bus: broker,
      registry: iot.registry,
      identity,
      stateDir,
      logger,
      invokeHook: async (functionArn, event) => {
        const result = await lambda.invoke(functionArn, event, 'RequestResponse');
        if (result.functionError) {
          const failure = result.payload as { errorType?: string; errorMessage?: string } | null;
          return {
            error: `${failure?.errorType ?? 'Error'}: ${failure?.errorMessage ?? 'the function failed'}`,
          };
        }
        return { payload: result.payload };
      },
    });
    closers.push(() => provisioning.close());

    const rules = await createRulesService({
      bus: broker,
      identity,
      logger: logger.child('rules'),
      targets: {
        invokeLambdaAsync: async (functionArn, payload) => {
          await lambda.invoke(functionArn, JSON.parse(payload.toString('utf8')), 'Event');
        },
        sendSqsMessage: async (queueUrl, body) => {
          await sqs.send(queueUrl, body);
        },
      },
      // SQL external functions reach the local stand-ins of the services they call. There is
      // no local Secrets Manager, DynamoDB or Amazon ML: their functions fail at run time.
      external: {
        invokeLambda: async (functionArn, payload) => {
          const result = await lambda.invoke(functionArn, payload, 'RequestResponse');
          return {
            ...(result.functionError ? { functionError: result.functionError } : {}),
            payload: result.payload,
          };
        },
        getThingShadow: async (thingName, shadowName) => shadow.api.get(thingName, shadowName),
        describeThing: async (thingName) => describeThingOutput(iot.registry.describeThing(thingName)),
        listThingGroupsForThing: async (thingName) => {
          iot.registry.describeThing(thingName); // an unknown thing fails as ListThingGroupsForThing does
          return { thingGroups: [] };
        },
      },
    });
    closers.push(() => rules.close(1_000));
    // Rules created through the iot API (CreateTopicRule) run too; stored ones resume on start.
    const runTopicRule = (record: TopicRuleRecord, what: string) => {
      try {
        rules.putRule(record.ruleName, record);
      } catch (err) {
        logger.warn(`${what} ${record.ruleName} cannot run: ${errorText(err)}`);
      }
    };
    for (const rule of iot.registry.rules()) runTopicRule(rule, 'stored topic rule');
    closers.push(
      wrapUnsubscribe(
        iot.registry.onRulesChange((records) => {
          const names = new Set(records.map((r) => r.ruleName));
          for (const running of rules.listRules()) {
            if (!names.has(running.ruleName)) rules.deleteRule(running.ruleName);
          }
          for (const record of records) runTopicRule(record, 'topic rule');
        }),
      ),
    );

    const liveAnalyticsClosed = options.liveAnalytics === 'closed';
    const closedToThisAccount = (route: ServiceRoute): ServiceRoute =>
      liveAnalyticsClosed
        ? {
            ...route,
            handle: async () => {
              throw new AwsServiceError('AccessDeniedException', 400, LIVE_ANALYTICS_CLOSED_MESSAGE);
            },
          }
        : route;
    for (const route of [
      createStsService({ identity }).route,
      shadow.route,
      closedToThisAccount(timestream.writeRoute),
      closedToThisAccount(timestream.queryRoute),
      secrets.route,
      influxdb.controlRoute,
      sqs.route,
      lambda.route,
      // before iot.route, which takes every other `iot` request
      provisioning.route,
      iot.route,
    ]) {
      gateway.addRoute(route);
    }

    const endpoints: LocalEndpoints = {
      mqttHost: 'localhost',
      mqttPort: broker.port,
      apiEndpoint: gateway.endpoint,
      caFile: ca.caFile,
      region: identity.region,
      accountId: identity.accountId,
    };
    writeFileAtomic(join(stateDir, ENDPOINTS_FILE), `${JSON.stringify(endpoints, null, 2)}\n`);
    // Every service is listening: hand over what was accepted before the last stop or crash,
    // then serve the devices that connected while the services started.
    broker.open();

    const cloud: LocalCloud = {
      endpoints,
      stateDir,
      identity,
      logger,
      ca,
      iot,
      broker,
      shadow,
      sqs,
      timestream,
      secrets,
      influxdb,
      lambda,
      rules,
      provisioning,
      gateway,
      async deploy(assemblyDir) {
        const dir = resolve(assemblyDir);
        const { deployStacks, localProviders, readAssembly } = await import('./deployer');
        const stacks = readAssembly(dir);
        const { providers, fallback } = localProviders({
          identity,
          logger: logger.child('deploy'),
          iot: iot.registry,
          rules,
          sqs,
          lambda,
          timestream,
          secrets,
          influxdb,
          provisioning: provisioning.templates,
          ...(liveAnalyticsClosed ? { liveAnalyticsRefusal: LIVE_ANALYTICS_CLOSED_MESSAGE } : {}),
          assemblyDir: dir,
        });
        const result = await deployStacks(stacks, {
          stateDir,
          identity,
          logger: logger.child('deploy'),
          providers,
          fallback,
          secretValue: (secretId) => secrets.getSecretValue(secretId).secretString ?? '',
        });
        // The things, certificates, policies and rules the deploy made are on disk before it answers.
        await iot.registry.durable();
        return result;
      },
      addRoute: (route) => gateway.addRoute(route),
      close: closeAll,
    };
    gateway.addRoute(createAdminRoute((dir) => cloud.deploy(dir)));
    gateway.ready();
    return cloud;
  } catch (err) {
    lambdaNeverStarts();
    await closeAll();
    throw err;
  }
}

function wrapUnsubscribe(unsubscribe: () => void): () => Promise<void> {
  return async () => unsubscribe();
}
