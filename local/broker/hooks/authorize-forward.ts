/**
 * Delivery: every message a subscriber would receive needs iot:Receive on topic/<topic> in
 * that subscriber's policies at delivery time; a denied delivery is dropped and the connection
 * stays up (AWS IoT Core Developer Guide, "AWS IoT Core policy actions" > iot:Receive).
 */
import type { AedesOptions } from 'aedes';
import type { BrokerContext } from '../context';

export function authorizeForwardHook(ctx: BrokerContext): NonNullable<AedesOptions['authorizeForward']> {
  return (client, packet) => {
    if (packet.topic.startsWith('$SYS/')) return null;
    const session = ctx.sessions.get(client);
    if (!session) return null;
    const res = ctx.resource('topic', packet.topic);
    const denied = ctx.check(session, 'iot:Receive', res);
    if (denied) {
      ctx.refuse(session, 'iot:Receive', res, denied, 'message not delivered');
      return null;
    }
    return packet;
  };
}
