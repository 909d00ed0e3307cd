/** Serial numbers for the certificates this CA signs. */
import { randomBytes } from 'node:crypto';

/** A positive 128-bit serial number in hex (RFC 5280 4.1.2.2: at most 20 octets, positive). */
export function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x01;
  return bytes.toString('hex');
}
