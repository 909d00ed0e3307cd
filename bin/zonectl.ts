/**
 * The zonectl command: onboarding, the device agent, the local cloud and the demo.
 * Each subcommand lives in cli/ and registers itself on the program (cli/program.ts).
 */

// The local cloud and its tools run on the machine's Node; Lambda itself runs nodejs22.x.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

import { createProgram } from '../cli/program';
import { runCli } from '../cli/run';

await runCli(createProgram(), process.argv);
