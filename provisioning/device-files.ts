/**
 * The operator's device folder `<devices-dir>/<thing>/`: private key (0600), certificate,
 * CA, bundle (0600), an onboarding record, and `previous/` during a key rotation.
 */
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { BUNDLE_FILE, CA_FILE, CERTIFICATE_FILE, PRIVATE_KEY_FILE } from '../contracts';
import { OnboardError } from './errors';

export const ONBOARDING_RECORD_FILE = 'onboarding.json';
export const PREVIOUS_DIR = 'previous';

export interface OnboardingRecord {
  readonly thing: string;
  /** Certificate of the current key, once --finish found it. */
  certificateId?: string;
  /** Certificate of the key being rotated out: ACTIVE until --retire-previous deactivates it. */
  previousCertificateId?: string;
  target?: 'aws' | 'local';
}

export const deviceDir = (devicesDir: string, thing: string) => join(devicesDir, thing);

/** Writes a secret file: owner-only (0600) in an owner-only folder, never overwriting. */
export function writeSecret(path: string, text: string, overwrite = false): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(path, text, { mode: 0o600, flag: overwrite ? 'w' : 'wx' });
  chmodSync(path, 0o600); // umask or an existing file could leave wider bits
}

export function writeAtomic(path: string, text: string, mode = 0o644): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, text, { mode });
  chmodSync(tmp, mode);
  renameSync(tmp, path);
}

export function readRecord(dir: string, thing: string): OnboardingRecord {
  const path = join(dir, ONBOARDING_RECORD_FILE);
  if (!existsSync(path)) return { thing };
  return JSON.parse(readFileSync(path, 'utf8')) as OnboardingRecord;
}

export function writeRecord(dir: string, record: OnboardingRecord): void {
  writeAtomic(join(dir, ONBOARDING_RECORD_FILE), `${JSON.stringify(record, null, 2)}\n`);
}

export function readPrivateKey(dir: string, thing: string): string {
  const path = join(dir, PRIVATE_KEY_FILE);
  if (!existsSync(path)) {
    throw new OnboardError(`No private key for ${thing} in ${dir}: run \`zonectl onboard ${thing}\` first.`);
  }
  return readFileSync(path, 'utf8');
}

/**
 * Starts a rotation: the current key, certificate and bundle move to `previous/` where they
 * stay until --finish; a rotation already waiting is refused.
 */
export function moveToPrevious(dir: string, thing: string): void {
  const previous = join(dir, PREVIOUS_DIR);
  if (existsSync(join(previous, PRIVATE_KEY_FILE))) {
    throw new OnboardError(
      `A key rotation of ${thing} is already waiting: deploy, then run \`zonectl onboard ${thing} --finish\` before rotating again.`,
    );
  }
  mkdirSync(previous, { recursive: true, mode: 0o700 });
  for (const file of [PRIVATE_KEY_FILE, CERTIFICATE_FILE, CA_FILE]) {
    if (existsSync(join(dir, file))) renameSync(join(dir, file), join(previous, file));
  }
  // the operator's copy of the running device's bundle stays usable until --finish
  if (existsSync(join(dir, BUNDLE_FILE))) copyFileSync(join(dir, BUNDLE_FILE), join(previous, BUNDLE_FILE));
}

export function dropPrevious(dir: string): void {
  rmSync(join(dir, PREVIOUS_DIR), { recursive: true, force: true });
}
