import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { afterAll, describe, expect, it } from 'vitest';
import { buildingStackName, ZONE_CONTROL_CONFIG_FILE, zoneControlConfigOf } from '../../contracts';
import { BuildingStack } from '../../lib/building-stack';
import { bundleHandler } from '../../lib/handler-bundle';
import { lambdaEntry } from '../../lib/handler-function';
import { assetDirOf, CDK_CONTEXT, loadFixture } from './helpers';

/**
 * Every Lambda handler (lambda/<name>/handler.ts) as the stack bundles it: small, because the
 * nodejs22.x runtime provides the AWS SDK and zod's translations are left out, and loading
 * nothing at run time but Node's own modules and the SDK.
 */
const MAX_BUNDLE_BYTES = 300_000;

const handlers = readdirSync(new URL('../../lambda', import.meta.url), { withFileTypes: true })
  .filter((d) => d.isDirectory() && readdirSync(join(d.parentPath, d.name)).includes('handler.ts'))
  .map((d) => d.name);

const out = mkdtempSync(join(tmpdir(), 'zonectl-bundles-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

describe('Lambda bundles', () => {
  it('finds the handlers to check', () => {
    expect(handlers).toEqual(expect.arrayContaining(['ingest', 'controller', 'provisioning-hook']));
  });

  it.each(handlers)(
    'bundles the %s handler within 300 KB, requiring only Node modules and the AWS SDK',
    (name) => {
      const dir = join(out, name);
      const { inputs } = bundleHandler(lambdaEntry(name), dir);
      const file = join(dir, 'index.js');
      const bytes = statSync(file).size;
      expect(bytes, `${name} bundle is ${bytes} bytes`).toBeLessThanOrEqual(MAX_BUNDLE_BYTES);

      const code = readFileSync(file, 'utf8');
      const required = [...code.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]!);
      const foreign = required.filter((m) => !builtins.has(m) && !m.startsWith('@aws-sdk/'));
      expect(foreign, 'modules the runtime would not find').toEqual([]);
      expect(required.some((m) => m.startsWith('@aws-sdk/'))).toBe(true);

      expect(inputs.some((i) => i.includes('node_modules/@aws-sdk/'))).toBe(false);
      const locales = inputs.filter((i) => /node_modules\/zod\/.*\/locales\//.test(i));
      // zod's English messages at most (a handler without zod, the InfluxDB token step, has none).
      expect(locales.map((i) => i.replace(/.*\/locales\//, '')).filter((l) => l !== 'en.js')).toEqual([]);
    },
  );
});

describe('Lambda assets of two buildings in one app', () => {
  it("ships each building's controller its own zone control config, not the first bundle's", () => {
    const hq = loadFixture();
    const annex = { ...hq, buildingId: 'annex' };
    const app = new App({ context: CDK_CONTEXT, builtinCloudFormationValidation: false });
    const stacks = [hq, annex].map(
      (config) => new BuildingStack(app, buildingStackName(config.buildingId), { config }),
    );
    app.synth();
    const shipped = stacks.map((stack) =>
      readFileSync(
        join(assetDirOf(stack, stack.controller.handler.function), ZONE_CONTROL_CONFIG_FILE),
        'utf8',
      ),
    );
    expect(JSON.parse(shipped[0]!)).toEqual(JSON.parse(JSON.stringify(zoneControlConfigOf(hq))));
    expect(JSON.parse(shipped[1]!)).toEqual(JSON.parse(JSON.stringify(zoneControlConfigOf(annex))));
  });
});
