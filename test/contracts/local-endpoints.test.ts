import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ENDPOINTS_FILE,
  LOCAL_CREDENTIALS,
  LocalEndpointsError,
  localClientConfig,
  readLocalEndpoints,
} from '../../contracts';

const ENDPOINTS = {
  mqttHost: 'localhost',
  mqttPort: 8883,
  apiEndpoint: 'http://127.0.0.1:4600',
  caFile: '.zonectl/local/ca/ca.pem',
  region: 'us-east-1',
  accountId: '000000000000',
};

let stateDir: string;
beforeEach(() => {
  stateDir = mkdtempSync(join(tmpdir(), 'zonectl-endpoints-'));
});
afterEach(() => {
  rmSync(stateDir, { recursive: true, force: true });
});

const write = (text: string) => writeFileSync(join(stateDir, ENDPOINTS_FILE), text);
const failure = (): LocalEndpointsError => {
  try {
    readLocalEndpoints(stateDir);
  } catch (err) {
    if (err instanceof LocalEndpointsError) return err;
    throw err;
  }
  throw new Error('readLocalEndpoints did not fail');
};

describe('endpoints.json', () => {
  it('reads what `zonectl local up` writes', () => {
    write(JSON.stringify(ENDPOINTS, null, 2));
    expect(readLocalEndpoints(stateDir)).toEqual(ENDPOINTS);
  });

  it('fails when the file is missing, naming it and saying to start the local cloud', () => {
    const err = failure();
    expect(err.message).toContain(join(stateDir, ENDPOINTS_FILE));
    expect(err.message).toMatch(/not running.*zonectl local up.*--state-dir/);
  });

  it('fails on a file that is not JSON, naming it and saying to restart the local cloud', () => {
    write('{"mqttHost": ');
    const err = failure();
    expect(err.message).toContain(join(stateDir, ENDPOINTS_FILE));
    expect(err.message).toMatch(/not valid JSON.*restart the local cloud with `zonectl local up`/);
  });

  it('fails on a file without a field, naming the field and what it expects', () => {
    const { mqttPort: _, ...withoutPort } = ENDPOINTS;
    write(JSON.stringify(withoutPort));
    const err = failure();
    expect(err.message).toContain(join(stateDir, ENDPOINTS_FILE));
    expect(err.message).toMatch(/mqttPort: got nothing \(field missing\).*zonectl local up/);
  });

  it('points an SDK client at the API endpoint with throwaway credentials', () => {
    expect(localClientConfig(ENDPOINTS)).toEqual({
      endpoint: 'http://127.0.0.1:4600',
      region: 'us-east-1',
      credentials: LOCAL_CREDENTIALS,
    });
  });
});
