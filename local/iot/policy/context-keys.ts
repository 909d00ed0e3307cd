/**
 * Values of IoT policy variables and condition keys for one connection.
 * AWS IoT Developer Guide, "Policy variables" > "Basic policy variables" and "Thing policy
 * variables": thing variables resolve only when the connection's principal is attached to the
 * thing; a variable that cannot be resolved yields undefined.
 */
import type { AuthorizationContext } from '../types';

const ATTRIBUTE_KEY = /^iot:Connection\.Thing\.Attributes\[(.+)\]$/i;

export function contextValue(key: string, context: AuthorizationContext): string | undefined {
  const attached = context.thing && context.isAttached ? context.thing : undefined;
  const attribute = ATTRIBUTE_KEY.exec(key);
  if (attribute?.[1] !== undefined) return attached?.attributes[attribute[1]];
  switch (key.toLowerCase()) {
    case 'iot:clientid':
      return context.clientId;
    case 'iot:connection.thing.thingname':
      return attached?.thingName;
    case 'iot:connection.thing.thingtypename':
      return attached?.thingTypeName;
    case 'iot:connection.thing.isattached':
      return String(Boolean(attached));
    case 'aws:sourceip':
      return context.sourceIp;
    default:
      return undefined;
  }
}
