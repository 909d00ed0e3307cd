import { COMMAND_SHADOW_NAME, telemetryTopic } from '../../../contracts';
import type { DeviceBundle } from '../../../device/bundle';
import type { TestPki } from '../../helpers/pki';

export async function testBundle(
  pki: TestPki,
  port: number,
  overrides: Partial<DeviceBundle> & { thing?: string } = {},
): Promise<DeviceBundle> {
  const thing = overrides.thing ?? 'hq-test-device';
  const address = { building: 'hq', zone: 'lobby', thing };
  const device = await pki.device(thing);
  return {
    v: 1,
    target: 'local',
    thing,
    clientId: thing,
    building: address.building,
    zone: address.zone,
    senses: ['temperature', 'co2'],
    drives: ['heating', 'ventilation'],
    endpoint: { host: '127.0.0.1', port },
    topics: { telemetry: telemetryTopic(address), commandShadow: COMMAND_SHADOW_NAME },
    certificateId: 'test',
    certificatePem: device.certificatePem,
    privateKeyPem: device.privateKeyPem,
    caPem: pki.caPem,
    safety: {
      minTemperature: 16,
      maxTemperature: 24,
      temperatureHysteresis: 0.5,
      co2Limit: 900,
      co2HighLimit: 1300,
    },
    ...overrides,
  };
}
