/**
 * The zonectl command: onboarding, the device agent, the local cloud and the demo.
 * Each subcommand lives in cli/ and registers itself on the program.
 */
import { Command } from 'commander';
import { registerDeviceCommand } from '../cli/device';
import { registerLocalCommand } from '../cli/local';
import { registerOnboardCommand } from '../cli/onboard';

const program = new Command('zonectl')
  .description('Smart-building IoT pipeline: onboard devices, run agents, run the local cloud')
  .showHelpAfterError();

registerOnboardCommand(program);
registerDeviceCommand(program);
registerLocalCommand(program);

await program.parseAsync(process.argv);
