/** The demo's command accounting: applied never exceeds issued, repeats counted apart. */
import { describe, expect, it } from 'vitest';
import { createCommandBook } from '../../demo/commands';
import type { MessageBus, MessageHandler } from '../../local/broker/types';

function fakeBus() {
  const handlers: Array<{ filter: string; handler: MessageHandler }> = [];
  const bus = {
    subscribe(filter: string, handler: MessageHandler) {
      const entry = { filter, handler };
      handlers.push(entry);
      return () => handlers.splice(handlers.indexOf(entry), 1);
    },
  } as unknown as MessageBus;
  const accept = (thing: string, desired: Record<string, unknown>) => {
    for (const h of handlers)
      void h.handler({
        topic: `$aws/things/${thing}/shadow/name/commands/update/accepted`,
        payload: Buffer.from(JSON.stringify({ state: { desired } })),
        qos: 1,
        receivedAt: Date.now(),
        retain: false,
      });
  };
  return { bus, accept, handlers };
}

describe('the command book', () => {
  it('counts each issued value applied once, and a value applied again as a repeat', () => {
    const { bus, accept } = fakeBus();
    const book = createCommandBook(bus);
    accept('hvac', { heating: 'on', ventilation: 'low' });
    book.applied('hvac', 'heating', 'on');
    book.applied('hvac', 'ventilation', 'low');
    // A delta that carried heating again before the device's report reached the shadow.
    book.applied('hvac', 'heating', 'on');
    expect(book.counts()).toEqual({ issued: 2, applied: 2, superseded: 0, outstanding: 0, repeated: 1 });
  });

  it('counts a command replaced before it was applied as superseded, never as applied', () => {
    const { bus, accept } = fakeBus();
    const book = createCommandBook(bus);
    accept('lights', { lighting: 20 });
    accept('lights', { lighting: 40 });
    book.applied('lights', 'lighting', 40);
    expect(book.counts()).toEqual({ issued: 2, applied: 1, superseded: 1, outstanding: 0, repeated: 0 });
  });

  it('ignores override annotations and deleted keys, and keeps the latest desired value per thing', () => {
    const { bus, accept } = fakeBus();
    const book = createCommandBook(bus);
    accept('room', { lighting: 50, override: { lighting: 1795763503692 } });
    accept('room', { override: { lighting: null } });
    expect(book.counts().issued).toBe(1);
    expect(book.desired('room')).toEqual({ lighting: 50 });
    accept('room', { lighting: null });
    expect(book.desired('room')).toEqual({});
    expect(book.counts()).toMatchObject({ issued: 1, outstanding: 1 });
  });

  it('stops listening when closed', () => {
    const { bus, handlers } = fakeBus();
    createCommandBook(bus).close();
    expect(handlers).toHaveLength(0);
  });
});
