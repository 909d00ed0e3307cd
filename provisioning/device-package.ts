/**
 * What an operator copies to a device, in one folder: the agent built into one file with its
 * native library (device/build.ts), the device's bundle (certificate, private key, endpoint,
 * CA) and a README with the command that runs it. The device needs Node.js 20 or later and
 * nothing else (no checkout, no npm install).
 *
 *   <out>/zonectl-agent.mjs     the agent and every JavaScript dependency
 *   <out>/aws-crt-nodejs.node   aws-crt's native library for the device's platform
 *   <out>/bundle.json           the device's identity and endpoint (mode 0600: private key)
 *   <out>/README.txt            how to run it, and how to keep it running
 *
 * The folder holds the private key: it is created 0700 and the bundle 0600; copy it over a
 * secure channel only (e.g. `scp -r` over SSH).
 */
import { chmodSync, copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BUNDLE_FILE } from '../contracts';
import { AGENT_FILE, type BuiltAgent, buildAgent, CRT_LIBRARY_FILE } from '../device/build';
import { loadBundle } from '../device/bundle';

export interface PackOptions {
  readonly thing: string;
  readonly devicesDir: string;
  readonly outDir: string;
  /** aws-crt platform of the device, e.g. linux-arm64-glibc. @default this machine's */
  readonly platform?: string;
  /** A program that imports runAgent with the device's drivers. @default the agent with simulated drivers */
  readonly entry?: string;
}

export interface PackResult extends BuiltAgent {
  readonly outDir: string;
  readonly bundleFile: string;
  /** The command to run on the device, from inside the copied folder. */
  readonly runCommand: string;
}

export const RUN_ON_DEVICE = `node ${AGENT_FILE} --bundle ${BUNDLE_FILE} --data-dir ./data`;

export async function packDevice(o: PackOptions): Promise<PackResult> {
  // Validates the bundle (and says how to make one) before building anything.
  const bundle = loadBundle(join(o.devicesDir, o.thing, BUNDLE_FILE));
  const outDir = resolve(o.outDir);
  mkdirSync(outDir, { recursive: true, mode: 0o700 });
  chmodSync(outDir, 0o700);
  const built = await buildAgent({ outDir, platform: o.platform, entry: o.entry });
  const bundleFile = join(outDir, BUNDLE_FILE);
  copyFileSync(join(o.devicesDir, o.thing, BUNDLE_FILE), bundleFile);
  chmodSync(bundleFile, 0o600);
  writeFileSync(join(outDir, 'README.txt'), readme(bundle.thing, built.platform, bundle.endpoint));
  return { ...built, outDir, bundleFile, runCommand: RUN_ON_DEVICE };
}

function readme(thing: string, platform: string, endpoint: { host: string; port: number }): string {
  return `zonectl device agent for ${thing}
Built for ${platform}; needs Node.js 20 or later on the device, nothing else.

  ${AGENT_FILE}     the agent (one file, every JavaScript dependency inside)
  ${CRT_LIBRARY_FILE}   aws-crt's native library for ${platform}
  ${BUNDLE_FILE}           certificate, PRIVATE KEY, endpoint ${endpoint.host}:${endpoint.port} and CA

Keep this folder private (chmod 700, bundle.json 600). Run it from this folder:

  ${RUN_ON_DEVICE}

Readings wait in ./data/buffer.jsonl until the broker acknowledges them, so keep ./data on
persistent storage. SIGINT/SIGTERM publish what waits, report the shadow and exit 0.

To keep it running with systemd, e.g. /etc/systemd/system/zonectl-agent.service:

  [Unit]
  Description=zonectl device agent (${thing})
  After=network-online.target
  Wants=network-online.target

  [Service]
  WorkingDirectory=/opt/zonectl
  ExecStart=/usr/bin/node ${AGENT_FILE} --bundle ${BUNDLE_FILE} --data-dir /var/lib/zonectl
  Restart=always
  RestartSec=5

  [Install]
  WantedBy=multi-user.target
`;
}
