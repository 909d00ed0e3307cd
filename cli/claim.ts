/**
 * `zonectl claim create` (a claim certificate for installers of a fleet-provisioned building:
 * key made here, certificate from its CSR, the building's claim policy attached) and
 * `zonectl claim revoke` (UpdateCertificate REVOKED).
 * The claim library (key, CSR, IoT client, device SDK) loads when a command runs, not with the
 * command list.
 */
import type { Command } from 'commander';
import { OnboardError } from '../provisioning/errors';
import {
  buildingConfigFile,
  certificateId,
  directoryToUse,
  existingDirectory,
  localStateDirOption,
  option,
} from './options';

const print = (line: string) => process.stdout.write(`${line}\n`);

/** Expected failures are printed by runCli; the body only runs. */
const guarded = (body: () => Promise<void>): Promise<void> => body();

export function registerClaimCommand(program: Command): void {
  const claim = program
    .command('claim')
    .description('claims that let installers provision devices of a fleet building');
  claim
    .command('create')
    .description("create a claim for the building's installers (key made here, certificate from its CSR)")
    .addOption(option('--config <file>', 'building config', buildingConfigFile, 'building.json'))
    .addOption(
      option(
        '--claim-dir <dir>',
        'where to write claim.json (default .zonectl/claims/<buildingId>)',
        directoryToUse('a claim directory'),
      ),
    )
    .option('--local', 'use the local cloud (endpoints.json in --state-dir) instead of AWS')
    .addOption(localStateDirOption())
    .action((flags: { config: string; claimDir?: string; local?: boolean; stateDir: string }) =>
      guarded(async () => {
        const [{ createClaim, defaultClaimDir }, { targetFor }] = await Promise.all([
          import('../provisioning/claims'),
          import('../provisioning/onboard'),
        ]);
        const target = targetFor({ local: flags.local, stateDir: flags.stateDir });
        const { path, claim: made } = await createClaim({
          configPath: flags.config,
          claimDir: flags.claimDir,
          target,
        }).finally(() => target.iot.destroy());
        print(`Wrote the claim ${path} (mode 0600: it holds the claim's private key; never commit it).`);
        print(
          `  building ${made.building}, template ${made.templateName}, certificate ${made.certificateId}`,
        );
        print(
          `Give the folder to the installers; on each device: zonectl device provision <thing> --claim ${flags.claimDir ?? defaultClaimDir(made.building)}`,
        );
        print(
          `End it when the floor is done: zonectl claim revoke --claim-dir ${flags.claimDir ?? defaultClaimDir(made.building)}${flags.local ? ' --local' : ''}`,
        );
      }),
    );
  claim
    .command('revoke')
    .description('revoke a claim (UpdateCertificate REVOKED); devices already provisioned keep working')
    .addOption(
      option(
        '--claim-dir <dir>',
        'the claim folder (claim.json)',
        existingDirectory('a claim folder', 'claim.json'),
      ),
    )
    .addOption(
      option('--certificate-id <id>', 'claim certificate id, instead of reading claim.json', certificateId),
    )
    .option('--local', 'use the local cloud instead of AWS')
    .addOption(localStateDirOption())
    .action((flags: { claimDir?: string; certificateId?: string; local?: boolean; stateDir: string }) =>
      guarded(async () => {
        if (!flags.claimDir && !flags.certificateId) {
          throw new OnboardError(
            'Pass --claim-dir <dir> (the folder of claim.json) or --certificate-id <id>.',
          );
        }
        const [{ revokeClaim }, { targetFor }] = await Promise.all([
          import('../provisioning/claims'),
          import('../provisioning/onboard'),
        ]);
        const target = targetFor({ local: flags.local, stateDir: flags.stateDir });
        const { certificateId } = await revokeClaim({
          claimDir: flags.claimDir ?? '',
          certificateId: flags.certificateId,
          target,
        }).finally(() => target.iot.destroy());
        print(`Revoked the claim certificate ${certificateId}: the broker refuses it from now on.`);
      }),
    );
}
