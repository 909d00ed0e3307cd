/**
 * The filters-per-SUBSCRIBE quota (AWS IoT Core Developer Guide, "AWS IoT Core message broker
 * and protocol limits and quotas": at most 8 subscriptions per SUBSCRIBE). aedes authorizes
 * one filter at a time, so the preConnect hook watches each connection's SUBSCRIBE packets
 * before aedes handles them and marks the filters of an oversized one; authorizeSubscribe
 * then refuses them.
 */
import type { AedesOptions } from 'aedes';
import { internals } from '../aedes-internals';
import { MAX_FILTERS_PER_SUBSCRIBE } from '../topics';

const TOO_MANY_FILTERS = Symbol('tooManyFilters');

/** True when this subscription came in a SUBSCRIBE packet with too many filters. */
export function inOversizedSubscribe(subscription: object): boolean {
  return (subscription as Record<symbol, boolean>)[TOO_MANY_FILTERS] === true;
}

export function preConnectHook(): NonNullable<AedesOptions['preConnect']> {
  return (client, packet, callback) => {
    internals(client)._parser?.prependListener('packet', (p: unknown) => {
      const pkt = p as { cmd?: string; subscriptions?: Array<Record<symbol, boolean>> };
      if (pkt.cmd === 'subscribe' && (pkt.subscriptions?.length ?? 0) > MAX_FILTERS_PER_SUBSCRIBE) {
        for (const s of pkt.subscriptions ?? []) s[TOO_MANY_FILTERS] = true;
      }
    });
    callback(null, packet.cmd === 'connect');
  };
}
