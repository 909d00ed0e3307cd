import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateThingCommand, DescribeThingCommand } from '@aws-sdk/client-iot';
import { afterEach, describe, expect, it } from 'vitest';
import { generateKeyAndCsr } from '../../../contracts/pki';
import type { IotRegistry } from '../../../local/iot';
import { type IotHarness, startIot } from './harness';

/**
 * The registry's storage: a change log with checkpoints and indexes instead of one document
 * rewritten on every change. What these pin: a change appends one record and never rewrites
 * registry.json, whatever the fleet's size; everything comes back after a restart; a damaged
 * checkpoint falls back to its last-good copy and the log fills in what came since.
 */
let h: IotHarness;
afterEach(async () => {
  await h?.close();
});

const iotDir = () => join(h.stateDir, 'iot');
const logLines = () => readFileSync(join(iotDir(), 'registry.log'), 'utf8').trim().split('\n').length;

async function provision(registry: IotRegistry, thingName: string): Promise<string> {
  registry.createThing({ thingName, attributes: { zone: 'lobby' } });
  const { csrPem } = await generateKeyAndCsr(thingName);
  const cert = await registry.createCertificateFromCsr(csrPem, true);
  registry.attachPolicy('device', cert.certificateArn);
  registry.attachThingPrincipal(thingName, cert.certificateArn);
  return cert.certificateArn;
}

describe('IoT registry storage', () => {
  it('adds one log record per change and leaves the checkpoint alone, at any fleet size', async () => {
    h = await startIot();
    const registry = h.iot.registry;
    registry.createPolicy(
      'device',
      JSON.stringify({ Statement: [{ Effect: 'Allow', Action: 'iot:*', Resource: '*' }] }),
    );
    for (let i = 0; i < 200; i++) registry.createThing({ thingName: `thing-${i}` });
    await registry.durable();
    const before = logLines();
    const checkpoint = join(iotDir(), 'registry.json');
    const statBefore = (() => {
      try {
        return statSync(checkpoint).mtimeMs;
      } catch {
        return undefined;
      }
    })();
    registry.updateThing({ thingName: 'thing-7', attributes: { floor: '2' }, merge: true });
    await registry.durable();
    expect(logLines()).toBe(before + 1);
    const statAfter = (() => {
      try {
        return statSync(checkpoint).mtimeMs;
      } catch {
        return undefined;
      }
    })();
    expect(statAfter).toBe(statBefore);
  });

  it('answers an API change only once it is on disk, and has it after a restart', async () => {
    h = await startIot();
    await h.client.send(
      new CreateThingCommand({ thingName: 'kept', attributePayload: { attributes: { a: '1' } } }),
    );
    expect(readFileSync(join(iotDir(), 'registry.log'), 'utf8')).toContain('"kept"');
    await h.close({ keepState: true });
    h = await startIot(h.stateDir);
    const described = await h.client.send(new DescribeThingCommand({ thingName: 'kept' }));
    expect(described.attributes).toEqual({ a: '1' });
  });

  it('keeps things, certificates, policies and attachments across checkpoints and restarts', async () => {
    h = await startIot();
    const registry = h.iot.registry;
    registry.createPolicy(
      'device',
      JSON.stringify({ Statement: [{ Effect: 'Allow', Action: 'iot:*', Resource: '*' }] }),
    );
    const arns: string[] = [];
    for (let i = 0; i < 5; i++) arns.push(await provision(registry, `sensor-${i}`));
    registry.detachThingPrincipal('sensor-2', arns[2]!);
    await registry.durable();
    // A checkpoint, then more changes on top of it.
    await registry.checkpoint();
    registry.deleteThing('sensor-2');
    registry.updateCertificate(arns[3]!.split('/')[1]!, 'REVOKED');
    await h.close({ keepState: true });

    h = await startIot(h.stateDir);
    const again = h.iot.registry;
    expect(again.listThings().items.map((t) => t.thingName)).toEqual([
      'sensor-0',
      'sensor-1',
      'sensor-3',
      'sensor-4',
    ]);
    expect(again.thingsOfPrincipal(arns[0]!).map((a) => a.thing.thingName)).toEqual(['sensor-0']);
    expect(again.thingsOfPrincipal(arns[2]!)).toEqual([]);
    expect(again.policiesOfPrincipal(arns[4]!).map((p) => p.policyName)).toEqual(['device']);
    expect(again.describeCertificate(arns[3]!.split('/')[1]!).status).toBe('REVOKED');
  });

  it('falls back to the last-good checkpoint when registry.json is damaged and loses no change', async () => {
    h = await startIot();
    const registry = h.iot.registry;
    const store = registry;
    registry.createThing({ thingName: 'before-first-checkpoint' });
    await store.checkpoint();
    registry.createThing({ thingName: 'between-checkpoints' });
    await store.checkpoint();
    registry.createThing({ thingName: 'after-checkpoints' });
    await h.close({ keepState: true });
    writeFileSync(join(h.stateDir, 'iot', 'registry.json'), 'null');

    h = await startIot(h.stateDir);
    expect(
      h.iot.registry
        .listThings()
        .items.map((t) => t.thingName)
        .sort(),
    ).toEqual(['after-checkpoints', 'before-first-checkpoint', 'between-checkpoints']);
    expect(
      h.logger.lines.some((l) =>
        /registry\.json .*is damaged: not the expected shape.*applied again from registry\.log/.test(l),
      ),
    ).toBe(true);
  });

  it('refuses to start when registry.json and its last-good copy are both unusable', async () => {
    h = await startIot();
    h.iot.registry.createThing({ thingName: 'only' });
    await h.iot.registry.checkpoint();
    await h.close({ keepState: true });
    writeFileSync(join(h.stateDir, 'iot', 'registry.json'), '{"things": [');
    rmSync(join(h.stateDir, 'iot', 'registry.json.last-good'), { force: true });
    const stateDir = h.stateDir;
    await expect(startIot(stateDir)).rejects.toThrow(
      /registry\.json .*is damaged: not valid JSON.*will not start without it/,
    );
    rmSync(stateDir, { recursive: true, force: true });
    h = await startIot();
  });
});
