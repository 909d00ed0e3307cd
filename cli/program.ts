/**
 * The zonectl program: every command, registered by its module in cli/. bin/zonectl.ts runs it
 * with `runCli`; tests build it to check every option of every command (cli/options.ts).
 */
import { Command } from 'commander';
import { registerClaimCommand } from './claim';
import { registerDeviceCommand } from './device';
import { registerLocalCommand } from './local';
import { registerOnboardCommand } from './onboard';
import { registerStartCommand } from './start';

export function createProgram(): Command {
  const program = new Command('zonectl')
    .description('Smart-building IoT pipeline: onboard devices, run agents, run the local cloud')
    .showHelpAfterError('(add --help to see every option)');
  registerOnboardCommand(program);
  registerClaimCommand(program);
  registerDeviceCommand(program);
  registerLocalCommand(program);
  registerStartCommand(program);
  return program;
}
