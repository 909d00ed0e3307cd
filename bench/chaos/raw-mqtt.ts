/**
 * A hand-written MQTT 3.1.1 client over TLS for the abuse suite: it sends exactly the bytes a
 * case asks for (a device SDK refuses many of them itself) and reports every packet the broker
 * sends back and whether it closed the connection.
 */
import { createServer, connect as netConnect, type Socket } from 'node:net';
import tls from 'node:tls';

/** MQTT's variable-length "remaining length". */
export function remainingLength(n: number): Buffer {
  const bytes: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    bytes.push(b);
  } while (n > 0);
  return Buffer.from(bytes);
}

const str = (b: Buffer) => Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b]);
const packet = (first: number, body: Buffer) =>
  Buffer.concat([Buffer.from([first]), remainingLength(body.length), body]);

/** CONNECT, MQTT 3.1.1, clean session, keep-alive 60 s. */
export const connectPacket = (clientId: string) =>
  packet(
    0x10,
    Buffer.concat([str(Buffer.from('MQTT')), Buffer.from([4, 2, 0, 60]), str(Buffer.from(clientId))]),
  );

/** PUBLISH at QoS 0, 1 or 2 (packet id 1 for QoS > 0); a topic given as bytes is sent as they are. */
export function publishPacket(topic: string | Buffer, payload: Buffer | string, qos: 0 | 1 | 2 = 1): Buffer {
  const id = qos > 0 ? Buffer.from([0, 1]) : Buffer.alloc(0);
  const name = typeof topic === 'string' ? Buffer.from(topic) : topic;
  return packet(0x30 | (qos << 1), Buffer.concat([str(name), id, Buffer.from(payload)]));
}

/** SUBSCRIBE to one filter at QoS 1, packet id 2. */
export const subscribePacket = (filter: string) =>
  packet(0x82, Buffer.concat([Buffer.from([0, 2]), str(Buffer.from(filter)), Buffer.from([1])]));

export interface Identity {
  readonly certPem?: string;
  readonly keyPem?: string;
}

export interface MqttPacket {
  /** The packet type (high nibble of the first byte): 2 CONNACK, 3 PUBLISH, 4 PUBACK, 5 PUBREC, 9 SUBACK. */
  readonly type: number;
  readonly body: Buffer;
}

/** One TLS connection to the broker and the packets it answered with. */
export class RawMqtt {
  readonly packets: MqttPacket[] = [];
  closed = false;
  private buffer = Buffer.alloc(0);
  private readonly waiters: Array<() => void> = [];

  private constructor(readonly socket: tls.TLSSocket) {
    socket.on('data', (d: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, d]);
      this.parse();
      this.wake();
    });
    const close = () => {
      this.closed = true;
      this.wake();
    };
    socket.on('error', close);
    socket.on('close', close);
  }

  /** Opens a TLS connection with the identity's certificate (if any); never rejects. */
  static open(port: number, caPem: string, id: Identity): RawMqtt {
    const socket = tls.connect({
      host: '127.0.0.1',
      port,
      ca: caPem,
      servername: 'localhost',
      ...(id.certPem ? { cert: id.certPem } : {}),
      ...(id.keyPem ? { key: id.keyPem } : {}),
    });
    return new RawMqtt(socket);
  }

  /** Writes bytes; a TLS socket holds them until its handshake is done. */
  send(bytes: Buffer): void {
    if (!this.closed) this.socket.write(bytes);
  }

  /** Waits until a packet of the type arrives, the connection closes or the time is up. */
  async waitFor(type: number, ms: number): Promise<MqttPacket | undefined> {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = this.packets.find((p) => p.type === type);
      if (found || this.closed || Date.now() >= deadline) return found;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Waits until the broker closes the connection or the time is up; true if it closed. */
  async waitClosed(ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (!this.closed && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.closed;
  }

  /** CONNACK return code (0 accepted), or undefined when the connection closed without one. */
  async connect(clientId: string, ms = 5_000): Promise<number | undefined> {
    this.send(connectPacket(clientId));
    const connack = await this.waitFor(2, ms);
    return connack?.body[1];
  }

  end(): void {
    this.socket.destroy();
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  private parse(): void {
    for (;;) {
      if (this.buffer.length < 2) return;
      let length = 0;
      let multiplier = 1;
      let i = 1;
      for (;;) {
        const b = this.buffer[i];
        if (b === undefined) return;
        length += (b & 0x7f) * multiplier;
        multiplier *= 128;
        i++;
        if ((b & 0x80) === 0) break;
      }
      if (this.buffer.length < i + length) return;
      this.packets.push({ type: (this.buffer[0] ?? 0) >> 4, body: this.buffer.subarray(i, i + length) });
      this.buffer = this.buffer.subarray(i + length);
    }
  }
}

/** Sends raw bytes over TCP; resolves with what came back once the server closes, or the time is up. */
export function rawTcp(
  port: number,
  bytes: Buffer,
  ms: number,
  /** Stop waiting (and close) once the reply so far satisfies this. */
  until?: (reply: string) => boolean,
): Promise<{ reply: string; closed: boolean; socket: Socket }> {
  return new Promise((resolve) => {
    let reply = '';
    const socket = netConnect(port, '127.0.0.1', () => socket.write(bytes));
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ reply, closed: false, socket });
    }, ms);
    socket.on('data', (d) => {
      reply += d.toString('latin1');
      if (until?.(reply)) {
        clearTimeout(timer);
        socket.destroy();
        resolve({ reply, closed: false, socket });
      }
    });
    const done = () => {
      clearTimeout(timer);
      resolve({ reply, closed: true, socket });
    };
    socket.on('error', done);
    socket.on('close', done);
  });
}

/** The first flight of a real TLS client (its ClientHello), captured from Node's own client. */
export function captureClientHello(): Promise<Buffer> {
  return new Promise((resolve) => {
    const server = createServer((socket) => {
      socket.once('data', (d: Buffer) => {
        resolve(d);
        socket.destroy();
        server.close();
      });
    });
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false }).on('error', () => {});
    });
  });
}
