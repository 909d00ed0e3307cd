import type { CloudIdentity, LocalLogger, RouteShape } from '../common';
import type { ServiceRoute } from '../gateway';

/** X-Amz-Target prefix of the control plane API (timestream-influxdb, awsJson1_0). */
export const CONTROL_TARGET_PREFIX = 'AmazonTimestreamInfluxDB.';

/** The control plane's route, all but its handler (./service; ./deferred before it loads). */
export const CONTROL_ROUTE: RouteShape = {
  name: 'timestream-influxdb',
  protocol: 'json-1.0',
  matches: (req) => (req.target ?? '').startsWith(CONTROL_TARGET_PREFIX),
};

/** The instances the service runs, under its directory. */
export const INSTANCES_FILE = 'instances.json';

export interface InfluxDbServiceOptions {
  /** State directory of the service; created if missing. */
  readonly dir: string;
  readonly identity: CloudIdentity;
  readonly logger: LocalLogger;
  /** Server certificate and key for the instances' HTTPS listeners (the local CA issues them). */
  readonly tls: { readonly certPem: string; readonly keyPem: string };
  /** Host the instances listen on. @default '127.0.0.1' */
  readonly host?: string;
  /** Clock in epoch ms (retention). @default Date.now */
  readonly now?: () => number;
}

/** What AWS::Timestream::InfluxDBInstance (or CreateDbInstance) asks for. */
export interface CreateInstanceInput {
  readonly name: string;
  readonly username: string;
  readonly password: string;
  readonly organization: string;
  readonly bucket: string;
  /** 0 picks a free port (tests); the template's Port otherwise. */
  readonly port: number;
  readonly dbInstanceType?: string;
  readonly allocatedStorage?: number;
  readonly deploymentType?: string;
}

export interface InstanceInfo {
  readonly id: string;
  readonly name: string;
  readonly arn: string;
  /** Host name clients connect to (the template's `Endpoint` attribute). */
  readonly endpoint: string;
  readonly port: number;
  /** `https://<endpoint>:<port>`. */
  readonly url: string;
  readonly status: 'AVAILABLE';
  readonly organization: string;
  readonly bucket: string;
  readonly dbInstanceType: string;
  readonly allocatedStorage: number;
  readonly deploymentType: string;
  /** ARN of the secret the service keeps the admin credentials in. */
  readonly influxAuthParametersSecretArn: string;
}

export interface InfluxDbService {
  /** The Timestream for InfluxDB control plane (timestream-influxdb): ListDbInstances, GetDbInstance. */
  readonly controlRoute: ServiceRoute;
  /** Creates an instance and starts its HTTPS API, or returns the one of that name (idempotent). */
  createInstance(input: CreateInstanceInput): Promise<InstanceInfo>;
  deleteInstance(name: string): Promise<void>;
  listInstances(): InstanceInfo[];
  close(): Promise<void>;
}
