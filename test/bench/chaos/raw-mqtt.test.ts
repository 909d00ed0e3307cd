/** The bench's hand-written MQTT client: its CONNECT is the packet MQTT 3.1.1 section 3.1 defines. */
import { describe, expect, it } from 'vitest';
import { connectPacket } from '../../../bench/chaos/raw-mqtt';

describe('connectPacket', () => {
  it('encodes a clean-session CONNECT with keep-alive 60 s and the client id', () => {
    expect(connectPacket('abc').toString('hex')).toBe(
      // type 1, remaining 15; "MQTT", level 4, flags: clean session, keep-alive 60; id "abc"
      `100f` + `00044d515454` + `04` + `02` + `003c` + `0003616263`,
    );
  });

  it('uses a two-byte remaining length past 127 bytes', () => {
    const packet = connectPacket('x'.repeat(128));
    // 10 bytes of variable header + 2 + 128 = 140 = 0x8c 0x01
    expect([...packet.subarray(0, 3)]).toEqual([0x10, 0x8c, 0x01]);
    expect(packet.length).toBe(3 + 140);
  });
});
