/**
 * The zonectl command: onboarding, the device agent, the local cloud and the demo.
 * Each subcommand lives in cli/ and registers itself on the program.
 */
import { Command } from 'commander';

// The local cloud and its tools run on the machine's Node; Lambda itself runs nodejs22.x.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

import { registerClaimCommand } from '../cli/claim';
import { registerDeviceCommand } from '../cli/device';
import { registerLocalCommand } from '../cli/local';
import { registerOnboardCommand } from '../cli/onboard';
import { registerStartCommand } from '../cli/start';

const program = new Command('zonectl')
  .description('Smart-building IoT pipeline: onboard devices, run agents, run the local cloud')
  .showHelpAfterError();

registerOnboardCommand(program);
registerClaimCommand(program);
registerDeviceCommand(program);
registerLocalCommand(program);
registerStartCommand(program);

await program.parseAsync(process.argv);
