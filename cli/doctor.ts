/**
 * `zonectl doctor`: the deploy preflight. Checks the caller's AWS account and Region for the
 * building's storage engine (credentials, Region, engine access, IoT data endpoint, CDK
 * bootstrap) and prints ok / PROBLEM with the fix for each; exits 1 when a check found a
 * problem. The checks live in preflight/.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { REGION_PATTERN } from '../contracts/regions';
import type { PreflightClients } from '../preflight/checks';
import { buildingConfigFile, localStateDirOption, matching, option } from './options';

interface DoctorFlags {
  config: string;
  region?: string;
  local?: boolean;
  stateDir: string;
}

export function registerDoctorCommand(program: Command): void {
  program
    .command('doctor')
    .description(
      'before cdk deploy: check the AWS account and Region can host the building (ok / problem / fix)',
    )
    .addOption(option('--config <file>', 'building config', buildingConfigFile, 'building.json'))
    .addOption(
      option(
        '--region <region>',
        'the Region to deploy to (default: AWS_REGION or your AWS profile)',
        matching(REGION_PATTERN, 'an AWS Region name such as eu-west-1'),
      ),
    )
    .option('--local', 'check the local cloud (endpoints.json in --state-dir) instead of AWS')
    .addOption(localStateDirOption())
    .action(async (flags: DoctorFlags) => {
      // The AWS SDK clients load when the command runs, not when --help lists it.
      const { awsClients, closeClients, formatPreflight, localClients, runPreflight } = await import(
        '../preflight/checks'
      );
      const { localClientConfig, parseBuildingConfigText, readLocalEndpoints } = await import('../contracts');
      const config = parseBuildingConfigText(readFileSync(resolve(flags.config), 'utf8'), flags.config);
      let clients: PreflightClients;
      if (flags.local) {
        const endpoints = readLocalEndpoints(flags.stateDir);
        clients = localClients(localClientConfig(endpoints));
      } else {
        clients = awsClients(flags.region);
      }
      try {
        const results = await runPreflight({
          engines: [config.storage.engine],
          clients,
          ...(flags.local ? { local: true } : {}),
        });
        process.stdout.write(
          `zonectl doctor: building ${config.buildingId}, storage.engine ${config.storage.engine}${flags.local ? ', local cloud' : ''}\n\n`,
        );
        process.stdout.write(`${formatPreflight(results)}\n`);
        if (results.some((r) => r.status === 'problem')) process.exitCode = 1;
      } finally {
        closeClients(clients);
      }
    });
}
