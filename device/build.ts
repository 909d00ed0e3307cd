/**
 * Builds the agent into one ES module for a device: `npx tsx device/build.ts [outfile]`
 * (default .zonectl/dist/zonectl-agent.mjs). Everything but aws-iot-device-sdk-v2 is inlined;
 * the SDK stays external because aws-crt loads a native binary, so the device needs
 * `npm i aws-iot-device-sdk-v2` (or a copy of node_modules/aws-iot-device-sdk-v2 and aws-crt
 * for its platform) beside the file.
 */
import { build } from 'esbuild';

const outfile = process.argv[2] ?? '.zonectl/dist/zonectl-agent.mjs';
await build({
  entryPoints: [new URL('./main.ts', import.meta.url).pathname],
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['aws-iot-device-sdk-v2'],
  outfile,
  logLevel: 'warning',
});
console.log(`wrote ${outfile}: run it with node ${outfile} --bundle bundle.json`);
