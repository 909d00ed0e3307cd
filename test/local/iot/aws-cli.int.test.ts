import { execFile } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateKeyAndCsr } from '../../../contracts/pki';
import { type IotHarness, startIot } from './harness';

const run = promisify(execFile);

/** The AWS CLI to test with: $AWS_CLI, Debian's /usr/bin/aws (CLI v2.9), or `aws` on PATH. */
function findCli(): string | undefined {
  const candidates = [process.env.AWS_CLI, '/usr/bin/aws'];
  for (const dir of (process.env.PATH ?? '').split(':')) candidates.push(join(dir, 'aws'));
  return candidates.find((c): c is string => !!c && existsSync(c));
}

const cli = findCli();
if (!cli) {
  console.warn('aws-cli tests skipped: the AWS CLI is not installed (apt-get install -y awscli)');
}

describe.skipIf(!cli)('AWS CLI against the local IoT API', () => {
  let h: IotHarness;
  beforeEach(async () => {
    h = await startIot();
  });
  afterEach(async () => {
    await h.close();
  });

  const aws = (...args: string[]) =>
    run(cli ?? 'aws', [...args, '--endpoint-url', h.gateway.endpoint, '--output', 'json'], {
      encoding: 'utf8',
      timeout: 20_000,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: h.stateDir,
        AWS_ACCESS_KEY_ID: 'AKIDLOCAL',
        AWS_SECRET_ACCESS_KEY: 'local-secret',
        AWS_DEFAULT_REGION: 'us-east-1',
        AWS_CONFIG_FILE: '/dev/null',
        AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
        AWS_EC2_METADATA_DISABLED: 'true',
        AWS_MAX_ATTEMPTS: '1',
        AWS_PAGER: '',
      },
    });

  it('creates an active certificate from a CSR with create-certificate-from-csr', async () => {
    const csrFile = join(h.stateDir, 'device.csr.pem');
    writeFileSync(csrFile, (await generateKeyAndCsr('cli-device')).csrPem);
    const { stdout } = await aws(
      'iot',
      'create-certificate-from-csr',
      '--certificate-signing-request',
      `file://${csrFile}`,
      '--set-as-active',
    );
    const created = JSON.parse(stdout) as {
      certificateId: string;
      certificateArn: string;
      certificatePem: string;
    };
    expect(created.certificateId).toMatch(/^[0-9a-f]{64}$/);
    expect(h.iot.directory.certificateById(created.certificateId)?.status).toBe('ACTIVE');
    expect(await h.ca.isIssuedByMe(created.certificatePem)).toBe(true);
  });

  it('answers describe-endpoint with the local address', async () => {
    const { stdout } = await aws('iot', 'describe-endpoint', '--endpoint-type', 'iot:Data-ATS');
    expect(JSON.parse(stdout)).toEqual({ endpointAddress: 'localhost' });
  });

  it('reports an unknown thing as ResourceNotFoundException', async () => {
    const err = (await aws('iot', 'describe-thing', '--thing-name', 'nope').catch((e: unknown) => e)) as {
      stderr: string;
    };
    expect(err.stderr).toMatch(/ResourceNotFoundException/);
  });
});
