/**
 * `zonectl local env`'s output, read by the shell as `eval "$(npx zonectl local env)"` reads it:
 * every variable exported with its exact value (quotes included), and the hint for CLIs that
 * ignore AWS_ENDPOINT_URL seen by a reader but not run.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { shellExports } from '../../cli/local';

const endpoints = {
  mqttHost: 'localhost',
  mqttPort: 8883,
  apiEndpoint: 'http://127.0.0.1:4600',
  caFile: "/home/o'brien/zonectl/.zonectl/local/ca/ca.pem",
  region: 'us-east-1',
  accountId: '000000000000',
};

describe('local env', () => {
  it('exports what clients need, exactly, when evaluated by bash', () => {
    const script = `eval "$1"\nprintf '%s\\n' "$ZONECTL_API" "$ZONECTL_MQTT_PORT" "$ZONECTL_CA" "$AWS_ENDPOINT_URL" "$AWS_DEFAULT_REGION"`;
    const out = execFileSync('bash', ['-c', script, 'bash', shellExports(endpoints)], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    });
    expect(out.trim().split('\n')).toEqual([
      'http://127.0.0.1:4600',
      '8883',
      "/home/o'brien/zonectl/.zonectl/local/ca/ca.pem",
      'http://127.0.0.1:4600',
      'us-east-1',
    ]);
  });

  it('tells a reader that older AWS CLIs need --endpoint-url, in a line the shell skips', () => {
    const hint = shellExports(endpoints)
      .split('\n')
      .filter((l) => !l.startsWith('export '));
    expect(hint).toEqual([expect.stringMatching(/^# .*AWS_ENDPOINT_URL.*--endpoint-url "\$ZONECTL_API"$/)]);
  });
});
