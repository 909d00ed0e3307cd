import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { generateKeyAndCsr } from '../../../contracts/pki';
import { AWS_CLI, AWS_CLI_MISSING, describeWithCli, runAwsCli } from '../../helpers/aws-cli';
import { type IotHarness, startIot } from './harness';

if (!AWS_CLI) console.warn(`aws-cli tests skipped: ${AWS_CLI_MISSING}`);

describeWithCli('AWS CLI against the local IoT API', () => {
  let h: IotHarness;
  beforeEach(async () => {
    h = await startIot();
  });
  afterEach(async () => {
    await h.close();
  });

  const aws = async (...args: string[]) => {
    const out = await runAwsCli(args, { endpoint: h.gateway.endpoint, home: h.stateDir });
    if (out.code !== 0) throw Object.assign(new Error(`aws exited ${out.code}`), out);
    return out;
  };

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
