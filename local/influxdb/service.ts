/**
 * Local stand-in for Amazon Timestream for InfluxDB: DB instances that the deployer creates
 * from AWS::Timestream::InfluxDBInstance, each serving the InfluxDB 2 HTTP API (route.ts) over
 * HTTPS on the port of its template, with a server certificate from the local CA for
 * `localhost`; and the service's control plane API (`timestream-influxdb`: ListDbInstances,
 * GetDbInstance) on the gateway. Follows the Timestream Developer Guide ("Timestream for
 * InfluxDB", "Connecting to an Amazon Timestream for InfluxDB DB instance") and the InfluxDB
 * OSS v2 documentation; each module names the pages it follows.
 *
 * LIMITATIONS versus AWS: no VPC, security groups or Multi-AZ standby (the API listens on the
 * loopback interface); instance type and storage are recorded, not enforced; the instance's
 * own credentials secret (InfluxAuthParametersSecretArn) is named but not created; the
 * endpoint is `localhost`, where AWS gives `<id>-<suffix>.timestream-influxdb.<region>.on.aws`.
 */
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import { join } from 'node:path';
import { z } from 'zod';
import {
  AwsServiceError,
  arn,
  resourceNotFound,
  StateFile,
  StateFileError,
  unknownOperation,
} from '../common';
import type { ServiceRoute } from '../gateway';
import { handleInfluxRequest } from './route';
import { InstanceStore } from './store';
import {
  CONTROL_ROUTE,
  CONTROL_TARGET_PREFIX,
  type CreateInstanceInput,
  INSTANCES_FILE,
  type InfluxDbService,
  type InfluxDbServiceOptions,
  type InstanceInfo,
} from './types';

interface Running {
  readonly info: InstanceInfo;
  readonly server: Server;
}

const TARGET_PREFIX = CONTROL_TARGET_PREFIX;
const SUMMARY_FIELDS = [
  'id',
  'name',
  'arn',
  'status',
  'endpoint',
  'port',
  'dbInstanceType',
  'deploymentType',
  'allocatedStorage',
] as const;

type Catalog = { instances: Array<CreateInstanceInput & { id: string; port: number }> };

const CatalogSchema = z.object({
  instances: z.array(
    z.looseObject({
      id: z.string().min(1),
      name: z.string().min(1),
      username: z.string(),
      password: z.string(),
      organization: z.string(),
      bucket: z.string(),
      port: z.number().int().nonnegative(),
    }),
  ),
});

export async function createInfluxDbService(options: InfluxDbServiceOptions): Promise<InfluxDbService> {
  const log = options.logger;
  const host = options.host ?? '127.0.0.1';
  const now = options.now ?? Date.now;
  const catalog = StateFile.open<Catalog>({
    path: join(options.dir, INSTANCES_FILE),
    schema: CatalogSchema as unknown as z.ZodType<Catalog>,
    initial: () => ({ instances: [] }),
    what: 'the InfluxDB instances',
    logger: log,
    whenUnusable: 'refuse',
  });
  const running = new Map<string, Running>();

  const start = async (record: CreateInstanceInput & { id: string; port: number }): Promise<Running> => {
    const store = InstanceStore.open(join(options.dir, record.id), record, log);
    const ctx = {
      store,
      now,
      startedAt: new Date().toISOString(),
      sessions: new Set<string>(),
      log: (line: string) => log.warn(`${record.name}: ${line}`),
    };
    const server = createServer({ key: options.tls.keyPem, cert: options.tls.certPem }, (req, res) => {
      void handleInfluxRequest(ctx, req, res);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) =>
        reject(
          err.code === 'EADDRINUSE'
            ? new Error(
                `port ${record.port} of InfluxDB instance ${record.name} is in use on this machine; stop what uses it or set storage.influxdb.port in the building config to a free port`,
              )
            : err,
        ),
      );
      server.listen(record.port, host, () => resolve());
    });
    const port = (server.address() as { port: number }).port;
    const info: InstanceInfo = {
      id: record.id,
      name: record.name,
      arn: arn(options.identity, 'timestream-influxdb', `db-instance/${record.id}`),
      endpoint: 'localhost',
      port,
      url: `https://localhost:${port}`,
      status: 'AVAILABLE',
      organization: record.organization,
      bucket: record.bucket,
      dbInstanceType: record.dbInstanceType ?? 'db.influx.medium',
      allocatedStorage: record.allocatedStorage ?? 20,
      deploymentType: record.deploymentType ?? 'SINGLE_AZ',
      influxAuthParametersSecretArn: arn(
        options.identity,
        'secretsmanager',
        `secret:READONLY-InfluxDB-auth-parameters-${record.id}`,
      ),
    };
    log.info(`InfluxDB instance ${record.name} serving ${info.url}`);
    return { info, server };
  };

  for (const record of catalog.value.instances) {
    try {
      running.set(record.name, await start(record));
    } catch (err) {
      // A damaged state file is the operator's to decide on: the cloud does not start without it.
      if (err instanceof StateFileError) throw err;
      log.warn(`InfluxDB instance ${record.name} could not start: ${(err as Error).message}`);
    }
  }

  const describe = (i: InstanceInfo) => ({
    id: i.id,
    name: i.name,
    arn: i.arn,
    status: i.status,
    endpoint: i.endpoint,
    port: i.port,
    dbInstanceType: i.dbInstanceType,
    dbStorageType: 'InfluxIOIncludedT1',
    allocatedStorage: i.allocatedStorage,
    deploymentType: i.deploymentType,
    networkType: 'IPV4',
    influxAuthParametersSecretArn: i.influxAuthParametersSecretArn,
    vpcSubnetIds: [],
  });

  const controlRoute: ServiceRoute = {
    ...CONTROL_ROUTE,
    async handle(req) {
      const op = (req.target ?? '').slice(TARGET_PREFIX.length);
      const input = (req.body.length > 0 ? JSON.parse(req.body.toString('utf8')) : {}) as Record<
        string,
        unknown
      >;
      if (op === 'ListDbInstances') {
        return {
          status: 200,
          body: {
            // ListDbInstances answers summaries (DbInstanceSummary), GetDbInstance the full record.
            items: [...running.values()].map(({ info }) => {
              const d = describe(info);
              return Object.fromEntries(SUMMARY_FIELDS.map((k) => [k, d[k]]));
            }),
          },
        };
      }
      if (op === 'GetDbInstance') {
        const found = [...running.values()].find(
          (r) => r.info.id === input.identifier || r.info.name === input.identifier,
        );
        if (!found) throw resourceNotFound(`DB instance ${String(input.identifier)} not found`);
        return { status: 200, body: describe(found.info) };
      }
      throw unknownOperation(`The local Timestream for InfluxDB does not implement ${op}`, 400);
    },
  };

  return {
    controlRoute,
    async createInstance(input) {
      const existing = running.get(input.name);
      if (existing) return existing.info;
      if (
        !/^[a-zA-Z][a-zA-Z0-9]*(-[a-zA-Z0-9]+)*$/.test(input.name) ||
        input.name.length < 3 ||
        input.name.length > 40
      ) {
        throw new AwsServiceError(
          'ValidationException',
          400,
          `DB instance name ${input.name} is not 3-40 letters, digits and single hyphens starting with a letter`,
        );
      }
      if (!/^[a-zA-Z0-9]{8,64}$/.test(input.password)) {
        throw new AwsServiceError('ValidationException', 400, 'the password must be 8-64 letters and digits');
      }
      const id = createHash('sha256').update(`${input.name}`).digest('hex').slice(0, 10);
      const record = { ...input, id };
      const r = await start(record);
      // The port a test asked as 0 is kept, so the instance comes back on it after a restart.
      catalog.value.instances = [
        ...catalog.value.instances.filter((x) => x.name !== input.name),
        { ...record, port: r.info.port },
      ];
      catalog.save();
      running.set(input.name, r);
      return r.info;
    },
    async deleteInstance(name) {
      const r = running.get(name);
      running.delete(name);
      if (r) await new Promise<void>((resolve) => r.server.close(() => resolve()));
      catalog.value.instances = catalog.value.instances.filter((x) => x.name !== name);
      catalog.save();
    },
    listInstances: () => [...running.values()].map((r) => r.info),
    async close() {
      await Promise.all(
        [...running.values()].map(
          (r) =>
            new Promise<void>((resolve) => {
              r.server.closeAllConnections();
              r.server.close(() => resolve());
            }),
        ),
      );
      running.clear();
    },
  };
}
