/**
 * PUBLISH from a client: QoS 0 or 1 only, a payload of at most 128 KB, a topic within AWS's
 * length and depth limits, no reserved topic other than those clients may use, and policies
 * that allow iot:Publish on topic/<topic> (and iot:RetainPublish for a retained message).
 * Anything else closes the connection, as AWS IoT does for MQTT 3.1.1 clients (AWS IoT Core
 * Developer Guide, "MQTT" > "AWS IoT differences from MQTT specifications", "Reserved topics",
 * "AWS IoT Core message broker and protocol limits and quotas", "AWS IoT Core policy actions").
 */
import type { AedesOptions, Client, PublishPacket } from 'aedes';
import type { BrokerContext } from '../context';
import { Refusal } from '../errors';
import type { Session } from '../sessions';
import { BASIC_INGEST_PREFIX, MAX_PAYLOAD_BYTES, topicLimitViolation } from '../topics';

/** Reserved topic prefixes a client may publish to, given a policy that allows it. */
const CLIENT_PUBLISHABLE_RESERVED = [
  '$aws/things/',
  BASIC_INGEST_PREFIX,
  '$aws/certificates/',
  '$aws/provisioning-templates/',
];

/**
 * What happens to an allowed publish before aedes acknowledges it: the broker journals a QoS 1
 * message and calls `callback` once it is on disk, so the PUBACK follows the write.
 */
export type AllowedPublish = (
  client: Client,
  session: Session,
  packet: PublishPacket,
  callback: (error?: Error | null) => void,
) => void;

export function authorizePublishHook(
  ctx: BrokerContext,
  allowed: AllowedPublish,
): NonNullable<AedesOptions['authorizePublish']> {
  return (client, packet, callback) => {
    if (!client) return callback(null);
    const session = ctx.sessions.get(client);
    if (!session) return callback(new Refusal('no session'));
    const topic = packet.topic;
    const res = ctx.resource('topic', topic);
    const disconnect = (reason: string, action = 'iot:Publish') => {
      session.reason = 'FORBIDDEN_ACCESS';
      callback(ctx.refuse(session, action, res, reason, 'client disconnected'));
    };
    if (packet.qos === 2) return disconnect('QoS 2 is not supported');
    const size = Buffer.byteLength(packet.payload ?? '');
    if (size > MAX_PAYLOAD_BYTES) {
      return disconnect(`payload is ${size} bytes; the limit is ${MAX_PAYLOAD_BYTES}`);
    }
    const limit = topicLimitViolation(topic);
    if (limit) return disconnect(limit);
    if (topic.startsWith('$') && !CLIENT_PUBLISHABLE_RESERVED.some((p) => topic.startsWith(p))) {
      return disconnect('reserved topic; clients cannot publish to it');
    }
    const denied = ctx.check(session, 'iot:Publish', res);
    if (denied) return disconnect(denied);
    if (packet.retain) {
      const deniedRetain = ctx.check(session, 'iot:RetainPublish', res);
      if (deniedRetain) return disconnect(deniedRetain, 'iot:RetainPublish');
    }
    allowed(client, session, packet, callback);
  };
}
