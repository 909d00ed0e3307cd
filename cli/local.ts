import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import type { LocalEndpoints } from '../contracts';
import { DEFAULT_LOCAL_STATE_DIR } from '../contracts/paths';
import type { LocalCloud } from '../local/cloud';
import type { DeployResult } from '../local/deployer/deployer';
import {
  existingDirectory,
  localStateDirOption,
  oneOf,
  option,
  port,
  runningStateDirOption,
} from './options';
import { formatDeployReport } from './report';

/**
 * `zonectl local up` and `zonectl local deploy`: the local cloud in the foreground, and deploying
 * to it. The local cloud's services load when `local up` runs, not when the program starts.
 */
export function registerLocalCommand(program: Command): void {
  const local = program.command('local').description('Run the pipeline on this machine with no AWS account');

  local
    .command('up')
    .description('Start the local cloud in the foreground (Ctrl-C stops it)')
    .addOption(localStateDirOption('where the local cloud keeps its state'))
    .addOption(
      option(
        '--mqtt-port <n>',
        `MQTT over TLS port (0 picks a free one; default $${MQTT_PORT_ENV} or 8883)`,
        port,
        defaultPort(MQTT_PORT_ENV, 8883),
      ),
    )
    .addOption(
      option(
        '--api-port <n>',
        `AWS API port (0 picks a free one; default $${API_PORT_ENV} or 4600)`,
        port,
        defaultPort(API_PORT_ENV, 4600),
      ),
    )
    .addOption(
      option(
        '--assembly <dir>',
        'deploy this synthesized cloud assembly (e.g. cdk.out) once started',
        cloudAssembly,
      ),
    )
    .addOption(
      option(
        '--liveanalytics <access>',
        'play an account that may (open) or may not (closed: new since 2025-06-20) use Timestream for LiveAnalytics',
        oneOf(['open', 'closed'] as const),
        'open',
      ),
    )
    .action(
      async (opts: {
        stateDir: string;
        mqttPort: number;
        apiPort: number;
        assembly?: string;
        liveanalytics: 'open' | 'closed';
      }) => {
        const started = Date.now();
        const [{ startLocalCloud }, { errorText }, { ENDPOINTS_FILE }] = await Promise.all([
          import('../local/cloud'),
          import('../local/common/log'),
          import('../contracts/local-endpoints'),
        ]);
        let cloud: LocalCloud;
        try {
          cloud = await startLocalCloud({
            stateDir: opts.stateDir,
            mqttPort: opts.mqttPort,
            apiPort: opts.apiPort,
            liveAnalytics: opts.liveanalytics,
          });
        } catch (err) {
          fail(`the local cloud could not start: ${describeStartError(err, errorText)}`);
        }
        printEndpoints(cloud.endpoints, join(cloud.stateDir, ENDPOINTS_FILE), Date.now() - started);
        const stop = async (signal: string) => {
          console.log(`\n${signal}: stopping the local cloud...`);
          await cloud.close();
          console.log('stopped; state kept in', cloud.stateDir);
          process.exit(0);
        };
        process.once('SIGINT', () => void stop('SIGINT'));
        process.once('SIGTERM', () => void stop('SIGTERM'));
        if (opts.assembly) {
          try {
            console.log(`\ndeploying ${opts.assembly} ...`);
            console.log(formatDeployReport(await cloud.deploy(opts.assembly)));
          } catch (err) {
            console.error(`deploy failed: ${errorText(err)}`);
            await cloud.close();
            process.exit(1);
          }
        }
        console.log('\nready. Ctrl-C to stop.');
      },
    );

  local
    .command('deploy')
    .description('Deploy a synthesized cloud assembly into the running local cloud')
    .addOption(runningStateDirOption())
    .addOption(option('--assembly <dir>', 'the cloud assembly to deploy', cloudAssembly, 'cdk.out'))
    .action(async (opts: { stateDir: string; assembly: string }) => {
      const endpoints = await readEndpoints(opts.stateDir);
      const { ADMIN_DEPLOY_PATH } = await import('../local/admin');
      let res: Response;
      try {
        res = await fetch(`${endpoints.apiEndpoint}${ADMIN_DEPLOY_PATH}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ assembly: resolve(opts.assembly) }),
        });
      } catch {
        fail(
          `no local cloud answers at ${endpoints.apiEndpoint}; start it with \`npx zonectl local up${opts.stateDir === DEFAULT_LOCAL_STATE_DIR ? '' : ` --state-dir ${opts.stateDir}`}\` in another terminal, then run this again`,
        );
      }
      const body = (await res.json()) as DeployResult & { message?: string };
      if (!res.ok) fail(`deploy failed: ${body.message ?? res.statusText}`);
      console.log(formatDeployReport(body));
    });

  local
    .command('env')
    .description(
      'Print shell exports for the running local cloud: endpoint, MQTT port, CA, throwaway credentials. Use: eval "$(npx zonectl local env)"',
    )
    .addOption(runningStateDirOption())
    .action(async (opts: { stateDir: string }) => {
      console.log(shellExports(await readEndpoints(opts.stateDir)));
    });
}

/** Environment variables that set the local cloud's default ports (for scripts and tests). */
export const MQTT_PORT_ENV = 'ZONECTL_MQTT_PORT';
export const API_PORT_ENV = 'ZONECTL_API_PORT';

function defaultPort(variable: string, fallback: number): number {
  const value = process.env[variable];
  if (value === undefined || value === '') return fallback;
  try {
    return port(value);
  } catch (err) {
    fail(`${variable}=${value}: ${(err as Error).message}`);
  }
}

/**
 * `local env`: what the AWS CLI, mosquitto clients and scripts need to talk to the running
 * local cloud. AWS_ENDPOINT_URL serves the AWS CLI 2.13+ and the SDKs; older CLIs (Debian's
 * 2.9) take `--endpoint-url "$ZONECTL_API"`. The credentials are throwaway: the local cloud
 * accepts any.
 */
export function shellExports(e: LocalEndpoints): string {
  const vars: Record<string, string> = {
    ZONECTL_API: e.apiEndpoint,
    ZONECTL_MQTT_HOST: e.mqttHost,
    ZONECTL_MQTT_PORT: String(e.mqttPort),
    ZONECTL_CA: e.caFile,
    AWS_ENDPOINT_URL: e.apiEndpoint,
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_DEFAULT_REGION: e.region,
  };
  const quote = (v: string) => `'${v.replaceAll("'", `'"'"'`)}'`;
  return [
    ...Object.entries(vars).map(([k, v]) => `export ${k}=${quote(v)}`),
    // A comment, so `eval` skips it; shown when the command is run alone.
    '# An AWS CLI that ignores AWS_ENDPOINT_URL (v2 before 2.13, such as Debian\'s 2.9) needs --endpoint-url "$ZONECTL_API"',
  ].join('\n');
}

export async function readEndpoints(stateDir: string): Promise<LocalEndpoints> {
  const { LocalEndpointsError, readLocalEndpoints } = await import('../contracts/local-endpoints');
  try {
    return readLocalEndpoints(stateDir);
  } catch (err) {
    if (err instanceof LocalEndpointsError) fail(err.message);
    throw err;
  }
}

function printEndpoints(e: LocalEndpoints, file: string, ms: number): void {
  console.log(`local cloud started in ${(ms / 1000).toFixed(1)} s`);
  console.log(`  MQTT (mutual TLS)  ${e.mqttHost}:${e.mqttPort}`);
  console.log(`  AWS APIs           ${e.apiEndpoint}   (iot, iot-data, sqs, timestream, lambda)`);
  console.log(`  CA to trust        ${e.caFile}`);
  console.log(`  account / region   ${e.accountId} / ${e.region}`);
  console.log(`  endpoints written  ${file}`);
}

function describeStartError(err: unknown, errorText: (err: unknown) => string): string {
  const e = err as NodeJS.ErrnoException & { port?: number };
  if (e.code === 'EADDRINUSE') {
    return `port ${e.port ?? ''} is in use; pass --mqtt-port / --api-port (0 picks a free port) or stop what uses it`;
  }
  const lock = /Conflicting lock is held in .* \(PID (\d+)\)/.exec(String(e.message));
  if (lock) {
    return `another local cloud (PID ${lock[1]}) is using this state dir; stop it, or pass another --state-dir`;
  }
  return errorText(err);
}

/** A synthesized cloud assembly: a directory with the manifest.json that `npx cdk synth` writes. */
function cloudAssembly(value: string): string {
  return existingDirectory(
    'a cloud assembly directory (run `npx cdk synth` to make cdk.out)',
    'manifest.json',
  )(value);
}

function fail(message: string): never {
  console.error(`zonectl: ${message}`);
  process.exit(1);
}
