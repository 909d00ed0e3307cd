/**
 * @peculiar/x509 wired to Node's WebCrypto, plus the small PEM/DER helpers the CA needs.
 * The library needs a Reflect metadata polyfill, imported here before it loads.
 */
import 'reflect-metadata';
import { createHash, randomBytes, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

export { x509 };
export const subtle = webcrypto.subtle as unknown as SubtleCrypto;

/** DER bytes of the first certificate in a PEM string, or the bytes themselves. */
export function certificateDer(cert: string | Uint8Array): Uint8Array<ArrayBuffer> {
  if (typeof cert !== 'string') return new Uint8Array(cert);
  const match = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/.exec(cert);
  if (!match?.[1]) throw new Error('no PEM certificate found');
  return new Uint8Array(Buffer.from(match[1].replace(/\s+/g, ''), 'base64'));
}

/** AWS IoT certificate id: lower-case hex SHA-256 of the DER certificate. */
export function certificateIdOf(cert: string | Uint8Array): string {
  return createHash('sha256').update(certificateDer(cert)).digest('hex');
}

/** A positive 128-bit serial number in hex (RFC 5280 4.1.2.2: at most 20 octets, positive). */
export function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x01;
  return bytes.toString('hex');
}

export function pemEncode(der: ArrayBuffer | Uint8Array, label: string): string {
  const b64 = Buffer.from(der instanceof Uint8Array ? der : new Uint8Array(der)).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

export function pemDecode(pem: string, label: string): Uint8Array<ArrayBuffer> {
  const re = new RegExp(`-----BEGIN ${label}-----([\\s\\S]*?)-----END ${label}-----`);
  const match = re.exec(pem);
  if (!match?.[1]) throw new Error(`no PEM block ${label} found`);
  return new Uint8Array(Buffer.from(match[1].replace(/\s+/g, ''), 'base64'));
}
