/** Starts the CA, the IoT service and the gateway on an ephemeral port, for control-plane tests. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IoTClient } from '@aws-sdk/client-iot';
import { type CaService, createCaService } from '../../../local/ca';
import { DEFAULT_IDENTITY } from '../../../local/common/account';
import { type LocalLogger, recordingLogger } from '../../../local/common/log';
import { createGatewayService, type GatewayService } from '../../../local/gateway';
import { createIotService, type IotService } from '../../../local/iot';

export interface IotHarness {
  readonly stateDir: string;
  readonly ca: CaService;
  readonly iot: IotService;
  readonly gateway: GatewayService;
  readonly client: IoTClient;
  readonly logger: LocalLogger & { readonly lines: string[] };
  close(options?: { keepState?: boolean }): Promise<void>;
}

export const dummyCredentials = { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local-secret' };

export async function startIot(stateDir = mkdtempSync(join(tmpdir(), 'zonectl-iot-'))): Promise<IotHarness> {
  const logger = recordingLogger();
  const ca = await createCaService({ dir: join(stateDir, 'ca'), logger });
  const iot = await createIotService({ stateDir, ca, identity: DEFAULT_IDENTITY, logger });
  const gateway = await createGatewayService({ port: 0, routes: [iot.route], logger });
  const client = new IoTClient({
    endpoint: gateway.endpoint,
    region: DEFAULT_IDENTITY.region,
    credentials: dummyCredentials,
    maxAttempts: 1,
  });
  return {
    stateDir,
    ca,
    iot,
    gateway,
    client,
    logger,
    async close(options = {}) {
      client.destroy();
      await gateway.close();
      await iot.close();
      if (!options.keepState) rmSync(stateDir, { recursive: true, force: true });
    },
  };
}
