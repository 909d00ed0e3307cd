import { createHash } from 'node:crypto';
import type { MessageAttributeValue } from './types';

/** MD5 of the message body as SQS returns it (MD5OfMessageBody / MD5OfBody): hex of the UTF-8 bytes. */
export function md5OfBody(body: string): string {
  return createHash('md5').update(body, 'utf8').digest('hex');
}

/**
 * MD5 of message attributes, as SQS computes it (SQS Developer Guide, "Calculating the MD5
 * message digest for message attributes"): attributes sorted by name; for each, the name,
 * the data type, a transport byte (1 String/Number, 2 Binary) and the value, every
 * variable-length part prefixed with its 4-byte big-endian length.
 */
export function md5OfAttributes(attributes: Readonly<Record<string, MessageAttributeValue>>): string {
  const hash = createHash('md5');
  const withLength = (bytes: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(bytes.length);
    hash.update(len);
    hash.update(bytes);
  };
  for (const name of Object.keys(attributes).sort()) {
    const value = attributes[name]!;
    withLength(Buffer.from(name, 'utf8'));
    withLength(Buffer.from(value.DataType, 'utf8'));
    if (value.BinaryValue !== undefined) {
      hash.update(Buffer.from([2]));
      withLength(Buffer.from(value.BinaryValue, 'base64'));
    } else {
      hash.update(Buffer.from([1]));
      withLength(Buffer.from(value.StringValue ?? '', 'utf8'));
    }
  }
  return hash.digest('hex');
}
