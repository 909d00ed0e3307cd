/**
 * The CA's files in its directory: `ca.pem` (the root certificate clients trust), its private
 * key `ca.key.pem` (mode 0600), a last-good copy of each (`*.last-good`, same modes), and the
 * cached server certificate of the local endpoints (`server.pem`, `server.key.pem`). The root is
 * created on first start and reused after.
 */
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CA_FILE } from '../../contracts/paths';
import { PEM_LABEL, pemDecode, pemEncode, subtle, x509 } from '../../contracts/pki';
import { fsyncDirectory, LAST_GOOD_SUFFIX, type LocalLogger, writeFileAtomic } from '../common';
import { randomSerial } from './serial';
import type { ServerCertificate } from './types';

export const CA_KEY_FILE = 'ca.key.pem';
export const SERVER_CERT_FILE = 'server.pem';
export const SERVER_KEY_FILE = 'server.key.pem';

export const EC_ALG = { name: 'ECDSA', namedCurve: 'P-256' } as const;
export const EC_SIGNING = { name: 'ECDSA', hash: 'SHA-256' } as const;
const CA_VALIDITY_YEARS = 20;
/** Reissue the cached server certificate when it has less than this left. */
const SERVER_RENEW_BEFORE_MS = 30 * 24 * 3600 * 1000;

export interface CaRoot {
  readonly caFile: string;
  readonly certificate: x509.X509Certificate;
  readonly privateKey: CryptoKey;
}

/**
 * The CA in a state dir is half there or damaged. The local cloud refuses to start rather than
 * make a new root: every device certificate, bundle and `ca.pem` copy would stop working.
 */
export class CaStateError extends Error {
  override readonly name = 'CaStateError';
}

const caAdvice = (dir: string) =>
  `restore the file from a backup, or remove ${dir} to create a new CA (every device certificate must then be issued again: zonectl onboard)`;

/** A CA pair read from two files, or what is wrong with it. */
type PairRead =
  | { readonly ok: true; readonly certificate: x509.X509Certificate; readonly privateKey: CryptoKey }
  | { readonly ok: false; readonly problem: string };

/** Reads and checks a CA certificate and its key: both there, both parse, the key the certificate's. */
async function readPair(certPath: string, keyPath: string): Promise<PairRead> {
  const hasCert = existsSync(certPath);
  const hasKey = existsSync(keyPath);
  if (!hasCert || !hasKey) {
    if (!hasCert && !hasKey) return { ok: false, problem: `${certPath} and ${keyPath} are missing` };
    const [present, missing] = hasCert ? [certPath, keyPath] : [keyPath, certPath];
    return { ok: false, problem: `${present} is there but ${missing} is missing` };
  }
  let certificate: x509.X509Certificate;
  let privateKey: CryptoKey;
  try {
    certificate = new x509.X509Certificate(readFileSync(certPath, 'utf8'));
  } catch (err) {
    return { ok: false, problem: `the CA certificate ${certPath} is damaged (${(err as Error).message})` };
  }
  try {
    privateKey = await subtle.importKey(
      'pkcs8',
      pemDecode(readFileSync(keyPath, 'utf8'), PEM_LABEL.privateKey),
      EC_ALG,
      false,
      ['sign'],
    );
  } catch (err) {
    return { ok: false, problem: `the CA key ${keyPath} is damaged (${(err as Error).message})` };
  }
  // The key must be the certificate's: sign a probe and verify it with the certificate.
  const probe = new TextEncoder().encode('zonectl ca key check');
  try {
    const signature = await subtle.sign(EC_SIGNING, privateKey, probe);
    const publicKey = await certificate.publicKey.export(EC_ALG, ['verify']);
    if (await subtle.verify(EC_SIGNING, publicKey, signature, probe))
      return { ok: true, certificate, privateKey };
  } catch {
    // an unusable public key is a mismatch too
  }
  return { ok: false, problem: `the CA key ${keyPath} does not belong to the certificate ${certPath}` };
}

/**
 * Keeps a copy of the CA pair beside it (`<file>.last-good`, the key's mode 0600): separate files,
 * not links, so damage to a file's content leaves its copy whole. Rewritten only when it differs.
 */
function keepLastGoodCopies(files: readonly string[]): void {
  for (const file of files) {
    const copy = `${file}${LAST_GOOD_SUFFIX}`;
    const content = readFileSync(file);
    if (existsSync(copy) && readFileSync(copy).equals(content)) continue;
    writeFileAtomic(copy, content, file.endsWith(CA_KEY_FILE) ? { mode: 0o600 } : {});
  }
}

/**
 * Loads the root from `dir`, creating it (key mode 0600, `ca.pem`) on first start, and keeps a
 * last-good copy of both files. When `ca.pem` or `ca.key.pem` is missing, damaged or not a pair,
 * the last-good pair is put back (the same CA, so every device certificate keeps working; the
 * damaged file is kept aside as `<file>.damaged-<time>`) and the log says so. Without a usable
 * copy it refuses with CaStateError rather than make a new root.
 */
export async function openCaRoot(dir: string, logger: LocalLogger): Promise<CaRoot> {
  mkdirSync(dir, { recursive: true });
  const caFile = join(dir, CA_FILE);
  const keyFile = join(dir, CA_KEY_FILE);
  // A first start that crashed between its two renames left the certificate under its temp name.
  if (existsSync(keyFile) && !existsSync(caFile) && existsSync(`${caFile}.new`)) {
    renameSync(`${caFile}.new`, caFile);
  }
  const copies = [caFile, keyFile].map((f) => `${f}${LAST_GOOD_SUFFIX}`);
  const anything = [caFile, keyFile, ...copies].some((f) => existsSync(f));
  if (anything) {
    const current = await readPair(caFile, keyFile);
    if (current.ok) {
      keepLastGoodCopies([caFile, keyFile]);
      return { caFile, certificate: current.certificate, privateKey: current.privateKey };
    }
    const lastGood = await readPair(copies[0]!, copies[1]!);
    if (!lastGood.ok) {
      throw new CaStateError(
        `the local CA cannot be used: ${current.problem}, and there is no usable last good copy (${lastGood.problem}); the local cloud will not replace a CA its devices trust; ${caAdvice(dir)}`,
      );
    }
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const keptAside: string[] = [];
    for (const [file, copy] of [
      [caFile, copies[0]!],
      [keyFile, copies[1]!],
    ] as const) {
      if (existsSync(file) && !readFileSync(file).equals(readFileSync(copy))) {
        renameSync(file, `${file}.damaged-${stamp}`);
        keptAside.push(`${file}.damaged-${stamp}`);
      }
      writeFileAtomic(file, readFileSync(copy), file === keyFile ? { mode: 0o600 } : {});
    }
    logger.warn(
      `the local CA could not be used (${current.problem}); restored ${caFile} and ${keyFile} from their last good copy: the same CA, so device certificates keep working${keptAside.length > 0 ? `; the damaged file is kept as ${keptAside.join(' and ')}` : ''}`,
    );
    return { caFile, certificate: lastGood.certificate, privateKey: lastGood.privateKey };
  }
  const keys = (await subtle.generateKey(EC_ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
  const notBefore = new Date(Date.now() - 60_000);
  const notAfter = new Date(notBefore);
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + CA_VALIDITY_YEARS);
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: 'CN=zonectl local IoT CA, O=zonectl local cloud',
    notBefore,
    notAfter,
    keys,
    signingAlgorithm: EC_SIGNING,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  // Both files are written to temp names first, so a crash leaves no half CA behind it.
  const keyTmp = `${keyFile}.new`;
  const certTmp = `${caFile}.new`;
  writePrivateKey(keyTmp, await subtle.exportKey('pkcs8', keys.privateKey));
  writeFileSync(certTmp, certificate.toString('pem'));
  renameSync(keyTmp, keyFile);
  renameSync(certTmp, caFile);
  fsyncDirectory(dir);
  keepLastGoodCopies([caFile, keyFile]);
  logger.info(`created certificate authority in ${dir}`);
  return { caFile, certificate, privateKey: keys.privateKey };
}

/** Writes a PKCS#8 key readable by the owner only; returns its PEM. */
export function writePrivateKey(path: string, pkcs8: ArrayBuffer): string {
  const pem = pemEncode(pkcs8, PEM_LABEL.privateKey);
  writeFileSync(path, pem, { mode: 0o600 });
  chmodSync(path, 0o600);
  return pem;
}

/**
 * The cached server certificate, if it covers `hosts`, has more than 30 days left, was signed by
 * this CA and its key file holds its private key; undefined when it must be issued again.
 * `unusable` hears why a cached pair that is there cannot be used (damaged, half missing), so
 * the new one is not issued silently.
 */
export async function cachedServerCertificate(
  dir: string,
  hosts: readonly string[],
  isIssuedByMe: (certPem: string) => Promise<boolean>,
  unusable: (reason: string) => void = () => {},
): Promise<ServerCertificate | undefined> {
  const certPath = join(dir, SERVER_CERT_FILE);
  const keyPath = join(dir, SERVER_KEY_FILE);
  const hasCert = existsSync(certPath);
  const hasKey = existsSync(keyPath);
  if (!hasCert && !hasKey) return undefined;
  if (!hasCert || !hasKey) {
    unusable(`${hasCert ? keyPath : certPath} is missing`);
    return undefined;
  }
  let certPem: string;
  let keyPem: string;
  let cert: x509.X509Certificate;
  try {
    certPem = readFileSync(certPath, 'utf8');
    keyPem = readFileSync(keyPath, 'utf8');
    cert = new x509.X509Certificate(certPem);
  } catch (err) {
    unusable(`${certPath} is damaged (${(err as Error).message})`);
    return undefined;
  }
  try {
    const spki = createPublicKey(createPrivateKey(keyPem)).export({ type: 'spki', format: 'der' });
    if (!spki.equals(Buffer.from(cert.publicKey.rawData))) {
      unusable(`${keyPath} is not the key of ${certPath}`);
      return undefined;
    }
  } catch (err) {
    unusable(`${keyPath} is damaged (${(err as Error).message})`);
    return undefined;
  }
  try {
    if (cert.notAfter.getTime() - Date.now() < SERVER_RENEW_BEFORE_MS) return undefined;
    if (!(await isIssuedByMe(certPem))) {
      unusable(`${certPath} was not issued by this CA`);
      return undefined;
    }
    const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
    const names = new Set((san?.names.items ?? []).map((n) => n.value));
    if (!hosts.every((h) => names.has(h))) return undefined;
    return { certPem, keyPem };
  } catch {
    return undefined;
  }
}

/** Stores a newly issued server certificate and its key for the next start (each atomically). */
export function saveServerCertificate(dir: string, certPem: string, pkcs8: ArrayBuffer): ServerCertificate {
  const keyPem = pemEncode(pkcs8, PEM_LABEL.privateKey);
  writeFileAtomic(join(dir, SERVER_KEY_FILE), keyPem, { mode: 0o600 });
  writeFileAtomic(join(dir, SERVER_CERT_FILE), certPem);
  return { certPem, keyPem };
}
