/**
 * What a broken or hostile HTTP client sends the gateway: a request trickled byte by byte
 * (slowloris), a 20 MB body, bytes that are not HTTP. Each gets a clear answer or a closed
 * socket, and other clients are served meanwhile.
 */
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { recordingLogger } from '../../../local/common/log';
import { createGatewayService, type GatewayService } from '../../../local/gateway';
import type { ServiceRoute } from '../../../local/gateway/types';

let gateway: GatewayService | undefined;
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await gateway?.close();
  gateway = undefined;
});

let handled = 0;
const route: ServiceRoute = {
  name: 'echo',
  protocol: 'json-1.0',
  matches: () => true,
  handle: async (req) => {
    handled++;
    return { status: 200, body: { size: req.body.length } };
  },
};

/** Opens a raw TCP connection; `reply` resolves with all it received once the server closes it. */
function rawClient(port: number): { socket: Socket; reply: Promise<string> } {
  const socket = connect(port, '127.0.0.1');
  sockets.push(socket);
  const reply = new Promise<string>((resolve) => {
    let data = '';
    socket.on('data', (d) => {
      data += d.toString();
    });
    socket.on('error', () => resolve(data));
    socket.on('close', () => resolve(data));
  });
  return { socket, reply };
}

/** Writes `text` one byte every `everyMs` until the socket closes; resolves with the bytes sent. */
function trickle(socket: Socket, text: string, everyMs: number): Promise<number> {
  return new Promise((resolve) => {
    let i = 0;
    const timer = setInterval(() => {
      if (socket.destroyed || i >= text.length) {
        clearInterval(timer);
        resolve(i);
        return;
      }
      socket.write(text[i++] ?? '');
    }, everyMs);
  });
}

describe('gateway: abusive clients', () => {
  it('closes a client that sends its headers byte by byte, with 408, and serves others meanwhile', async () => {
    const logger = recordingLogger();
    gateway = await createGatewayService({ port: 0, logger, routes: [route], headersTimeoutMs: 1_000 });
    const slow = rawClient(gateway.port);
    const headers = `POST /x HTTP/1.1\r\nHost: localhost\r\n${'X-Pad: a\r\n'.repeat(200)}\r\n`;
    const sent = trickle(slow.socket, headers, 20);
    // Another client is served while the slow one trickles.
    const before = handled;
    const ok = await fetch(`${gateway.endpoint}/x`, { method: 'POST', body: 'fine' });
    expect(ok.status).toBe(200);
    expect(handled).toBe(before + 1);
    expect(await slow.reply).toMatch(/^HTTP\/1.1 408/);
    expect(await sent).toBeLessThan(headers.length);
    expect(logger.lines.filter((l) => l.includes('did not arrive in time'))).toHaveLength(1);
  });

  it('closes a client that sends its body byte by byte, with 408, and never hands it to a route', async () => {
    const logger = recordingLogger();
    gateway = await createGatewayService({
      port: 0,
      logger,
      routes: [route],
      headersTimeoutMs: 500,
      requestTimeoutMs: 1_000,
    });
    const slow = rawClient(gateway.port);
    const before = handled;
    slow.socket.write('POST /x HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000\r\n\r\n');
    const sent = trickle(slow.socket, 'x'.repeat(1000), 20);
    expect((await fetch(`${gateway.endpoint}/x`)).status).toBe(200);
    expect(await slow.reply).toMatch(/^HTTP\/1.1 408/);
    expect(await sent).toBeLessThan(1000);
    expect(handled).toBe(before + 1);
  });

  it('refuses a 20 MB body with 413 as soon as its headers arrive, without waiting for it', async () => {
    const logger = recordingLogger();
    gateway = await createGatewayService({ port: 0, logger, routes: [route] });
    const big = rawClient(gateway.port);
    const before = handled;
    big.socket.write(
      `POST /x HTTP/1.1\r\nHost: localhost\r\nContent-Length: ${20 * 1024 * 1024}\r\n\r\n${'x'.repeat(1024)}`,
    );
    // The answer comes while 20 MB minus 1 KB of the body are still unsent.
    const first = await new Promise<string>((resolve) =>
      big.socket.once('data', (d) => resolve(d.toString())),
    );
    expect(first).toMatch(/^HTTP\/1.1 413/);
    expect(first).toContain('RequestEntityTooLargeException');
    expect(handled).toBe(before);
    // A 20 MB body sent whole with chunked encoding (no length announced) is refused too.
    const res = await fetch(`${gateway.endpoint}/x`, {
      method: 'POST',
      body: new Blob([Buffer.alloc(20 * 1024 * 1024, 0x61)]).stream(),
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(handled).toBe(before);
    expect((await fetch(`${gateway.endpoint}/x`, { method: 'POST', body: 'small' })).status).toBe(200);
  });

  it('answers garbage bytes with 400 and a closed socket, and keeps serving', async () => {
    const logger = recordingLogger();
    gateway = await createGatewayService({ port: 0, logger, routes: [route] });
    const garbage = rawClient(gateway.port);
    garbage.socket.write(
      Buffer.from([0x16, 0x03, 0x01, 0x00, 0xff, 0x00, 0x01, 0x02, 0x0d, 0x0a, 0x0d, 0x0a]),
    );
    expect(await garbage.reply).toMatch(/^HTTP\/1.1 400/);
    expect(logger.lines.filter((l) => l.includes('malformed HTTP request refused'))).toHaveLength(1);
    expect((await fetch(`${gateway.endpoint}/x`)).status).toBe(200);
  });
});
