/**
 * A broker on an ephemeral port with the local CA, an in-memory registry and device
 * certificates issued by that CA, in a temp state dir. Tests create devices with
 * `issueDevice` and close everything with `close()`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrokerService, createBrokerService } from '../../local/broker';
import { type CaService, createCaService } from '../../local/ca';
import { recordingLogger } from '../../local/common/log';
import { compilePolicies } from '../../local/iot/policy';
import type { PolicyCompiler, PolicyDocument } from '../../local/iot/types';
import { devicePolicy } from './device-policy';
import { createTestDirectory, type TestDirectory } from './directory';

export interface DeviceIdentity {
  readonly thingName: string;
  readonly certificateId: string;
  readonly certFile: string;
  readonly keyFile: string;
  readonly certPem: string;
  readonly keyPem: string;
}

export interface IssueOptions {
  readonly attributes?: Record<string, string>;
  /** Policy attached to the certificate; default the project's device policy. */
  readonly policy?: PolicyDocument;
  /** Attach the thing exclusively (EXCLUSIVE_THING). */
  readonly exclusive?: boolean;
  /** Register the certificate in the registry (default true). */
  readonly register?: boolean;
  /** Create and attach a thing with this name (default true). */
  readonly attachThing?: boolean;
}

export interface LocalIot {
  readonly stateDir: string;
  readonly ca: CaService;
  readonly caFile: string;
  readonly directory: TestDirectory;
  readonly logger: ReturnType<typeof recordingLogger>;
  broker: BrokerService;
  issueDevice(thingName: string, options?: IssueOptions): Promise<DeviceIdentity>;
  /**
   * Closes the broker and starts a new one on the same port and state dir, open to devices
   * unless `open: false`: the test then subscribes its observers and calls `broker.open()`, as
   * the local cloud does once its services listen.
   */
  restartBroker(options?: { readonly open?: boolean }): Promise<void>;
  /** Log lines containing every given fragment. */
  logLines(...fragments: string[]): string[];
  close(): Promise<void>;
}

export async function startLocalIot(
  compile: PolicyCompiler = compilePolicies,
  brokerOptions: {
    readonly maxPendingMessages?: number;
    readonly handshakeTimeoutMs?: number;
    readonly connectTimeoutMs?: number;
  } = {},
): Promise<LocalIot> {
  const stateDir = mkdtempSync(join(tmpdir(), 'zonectl-iot-'));
  const logger = recordingLogger();
  const ca = await createCaService({ dir: join(stateDir, 'ca'), logger });
  const server = await ca.issueServerCertificate();
  const directory = createTestDirectory();
  const tls = { keyPem: server.keyPem, certPem: server.certPem, caPem: ca.caPem };
  const start = (port: number) =>
    createBrokerService({ port, tls, directory, compile, stateDir, logger, ...brokerOptions });
  let policyCount = 0;

  const fixture: LocalIot = {
    stateDir,
    ca,
    caFile: ca.caFile,
    directory,
    logger,
    // No service of the fixture subscribes at start: the broker serves devices at once.
    broker: await start(0).then((broker) => {
      broker.open();
      return broker;
    }),
    async issueDevice(thingName, options = {}) {
      const issued = await ca.createKeysAndCertificate();
      const dir = mkdtempSync(join(stateDir, 'device-'));
      const certFile = join(dir, 'certificate.pem');
      const keyFile = join(dir, 'private.key.pem');
      writeFileSync(certFile, issued.certificatePem);
      writeFileSync(keyFile, issued.keyPair.PrivateKey, { mode: 0o600 });
      if (options.register !== false) {
        directory.addCertificate(issued.certificateId, issued.certificatePem, 'ACTIVE');
        if (options.attachThing !== false) {
          directory.addThing(thingName, options.attributes ?? {});
          directory.attachThing(issued.certificateId, thingName, options.exclusive ?? false);
        }
        const policyName = `policy${++policyCount}`;
        directory.putPolicy(policyName, options.policy ?? devicePolicy());
        directory.attachPolicy(issued.certificateId, policyName);
      }
      return {
        thingName,
        certificateId: issued.certificateId,
        certFile,
        keyFile,
        certPem: issued.certificatePem,
        keyPem: issued.keyPair.PrivateKey,
      };
    },
    async restartBroker({ open = true } = {}) {
      const port = fixture.broker.port;
      await fixture.broker.close();
      fixture.broker = await start(port);
      if (open) fixture.broker.open();
    },
    logLines: (...fragments) => logger.lines.filter((l) => fragments.every((f) => l.includes(f))),
    async close() {
      await fixture.broker.close();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
  return fixture;
}
