/**
 * SUBSCRIBE: at most 8 filters per packet, QoS 0 or 1, a filter within AWS's limits, never a
 * Basic Ingest topic, and policies that allow iot:Subscribe on topicfilter/<filter>. A refusal
 * closes the connection (AWS IoT Core Developer Guide, "AWS IoT Core message broker and
 * protocol limits and quotas", "Reserved topics" > Basic Ingest, "AWS IoT Core policy actions").
 */
import type { AedesOptions } from 'aedes';
import type { BrokerContext } from '../context';
import { Refusal } from '../errors';
import { isUnsubscribableFilter, MAX_FILTERS_PER_SUBSCRIBE, topicLimitViolation } from '../topics';
import { inOversizedSubscribe } from './limits';

export function authorizeSubscribeHook(ctx: BrokerContext): NonNullable<AedesOptions['authorizeSubscribe']> {
  return (client, sub, callback) => {
    const session = ctx.sessions.get(client);
    if (!session) return callback(new Refusal('no session'));
    const res = ctx.resource('topicfilter', sub.topic);
    const disconnect = (reason: string) => {
      session.reason = 'FORBIDDEN_ACCESS';
      callback(ctx.refuse(session, 'iot:Subscribe', res, reason, 'client disconnected'));
    };
    if (inOversizedSubscribe(sub)) {
      return disconnect(`more than ${MAX_FILTERS_PER_SUBSCRIBE} topic filters in one SUBSCRIBE`);
    }
    if (sub.qos === 2) return disconnect('QoS 2 is not supported');
    const limit = topicLimitViolation(sub.topic);
    if (limit) return disconnect(limit);
    if (isUnsubscribableFilter(sub.topic)) return disconnect('Basic Ingest topics cannot be subscribed to');
    const denied = ctx.check(session, 'iot:Subscribe', res);
    if (denied) return disconnect(denied);
    callback(null, sub);
  };
}
