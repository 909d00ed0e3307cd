/**
 * The broker's listener: TLS 1.2 or later with a required client certificate signed by the
 * local CA, as AWS IoT Core's data endpoint requires mutual TLS on port 8883 (AWS IoT Core
 * Developer Guide, "Device communication protocols" and "Transport security in AWS IoT Core").
 * The handshake asks for a certificate and verifies it against the CA; the verdict is read
 * after the handshake (rather than with rejectUnauthorized) so the log can say why a client
 * was refused.
 *
 * Clients are handed on only after `serve()`: one that connects earlier finishes its handshake
 * and waits with its bytes unread.
 *
 * Bytes that are not TLS, and a handshake not finished within 20 s, end the connection with
 * one log line; a client that finishes its handshake has 20 s more to send its CONNECT (see
 * service.ts). AWS IoT does not document these bounds.
 *
 * LIMITATIONS versus AWS: no TLS session resumption, so every connect is a full handshake (AWS
 * IoT does not document whether it resumes sessions). The listener sets SSL_OP_NO_TICKET:
 * OpenSSL 3.0 builds each stateless session ticket by decoding a copy of the session, client
 * certificate included, and Node's two tickets per handshake cost about 0.5 ms of the broker's
 * CPU per connect, while the device SDK (aws-crt) never resumes a session. With the option,
 * TLS 1.3 clients still get tickets, stateful ones that only carry a session id, and TLS 1.2
 * clients a session id; the listener keeps no session cache (Node's resumeSession event sees
 * only TLS 1.2 session ids), so an attempt to resume becomes a full handshake.
 */
import { constants } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { errorText, type LocalLogger } from '../common';
import { peerCertificateId } from './identity';
import type { BrokerTlsOptions } from './types';

export interface TlsListener {
  readonly port: number;
  /**
   * Starts handing clients to `onClient`. A client that finished its handshake before waits
   * until then with its bytes unread (TCP flow control bounds what it can send meanwhile).
   */
  serve(): void;
  /** Stops accepting, drops connections that never became MQTT clients, and waits for the close. */
  close(): Promise<void>;
}

/** The most a client may send before its CONNECT is handled: a 128 KB will message plus headroom. */
export const MAX_CONNECT_BYTES = 192 * 1024;

/** Sockets whose pre-CONNECT byte count is still running, with the function that ends it. */
const connected = new WeakMap<tls.TLSSocket, () => void>();

/** Ends the pre-CONNECT byte count of a socket (its CONNECT was handled). */
export function connectHandled(socket: tls.TLSSocket): void {
  connected.get(socket)?.();
  connected.delete(socket);
}

/** How long a client may take over its TLS handshake (Node's default is 120 s). */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 20_000;

export async function listenTls(
  options: {
    readonly host: string;
    readonly port: number;
    readonly tls: BrokerTlsOptions;
    readonly handshakeTimeoutMs?: number;
  },
  log: LocalLogger,
  onClient: (socket: tls.TLSSocket) => void,
): Promise<TlsListener> {
  const sockets = new Set<tls.TLSSocket>();
  /** Whether `serve()` was called; before it, clients wait in `waiting`. */
  let serving = false;
  const waiting: tls.TLSSocket[] = [];
  const server = tls.createServer(
    {
      key: options.tls.keyPem,
      cert: options.tls.certPem,
      ca: options.tls.caPem,
      requestCert: true,
      rejectUnauthorized: false,
      minVersion: 'TLSv1.2',
      // No stateless session tickets (see the module header); the full handshake is unchanged.
      secureOptions: constants.SSL_OP_NO_TICKET,
      // A client that opens a connection and stalls its handshake (or sends no TLS at all)
      // holds a socket; it is dropped after this, with a tlsClientError logged below.
      handshakeTimeout: options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
      // MQTT packets are small and often answer one another (PUBACK, then the next PUBLISH);
      // with Nagle's algorithm a second small write waits for the peer's delayed ACK, up to
      // 40 ms on Linux, for every such pair.
      noDelay: true,
    },
    (socket) => {
      const refusal = peerRefusal(socket);
      if (refusal) {
        log.warn(`refused TLS connection from ${socket.remoteAddress ?? 'unknown'}: ${refusal}`);
        socket.on('error', () => {});
        socket.destroy();
        return;
      }
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {});
      if (serving) accept(socket);
      else waiting.push(socket);
    },
  );
  /** A client with a good certificate becomes an MQTT client. */
  const accept = (socket: tls.TLSSocket) => {
    // Until its CONNECT is handled, a client may send no more than a CONNECT can hold
    // (client id, will message of at most 128 KB, credentials): an endless or oversized
    // CONNECT would otherwise be buffered whole before any check ran.
    let beforeConnect = 0;
    const countConnect = (chunk: Buffer) => {
      beforeConnect += chunk.length;
      if (beforeConnect > MAX_CONNECT_BYTES) {
        log.warn(
          `dropped the connection from ${socket.remoteAddress ?? 'unknown'}: more than ${MAX_CONNECT_BYTES} bytes before its CONNECT was handled`,
        );
        socket.destroy();
      }
    };
    socket.on('data', countConnect);
    connected.set(socket, () => socket.off('data', countConnect));
    onClient(socket);
  };
  server.on('tlsClientError', (err, socket) => {
    log.warn(`TLS handshake from ${socket.remoteAddress ?? 'unknown'} failed: ${err.message}`);
    socket.destroy();
  });
  server.on('error', (err) => log.error(`TLS server error: ${errorText(err)}`));

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    serve() {
      if (serving) return;
      serving = true;
      for (const socket of waiting.splice(0)) if (!socket.destroyed) accept(socket);
    },
    async close() {
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      // Connections that never sent CONNECT are not aedes clients, so aedes does not close them.
      for (const socket of sockets) socket.destroy();
      await stopped;
    },
  };
}

/** Why a TLS client is not accepted, in words, or undefined when its certificate is good. */
function peerRefusal(socket: tls.TLSSocket): string | undefined {
  if (peerCertificateId(socket) === undefined) return 'no client certificate';
  if (socket.authorized) return undefined;
  const code = String(socket.authorizationError ?? 'unknown error');
  if (/ISSUER|SIGNATURE|SELF_SIGNED|LEAF/.test(code))
    return `client certificate not signed by the local CA (${code})`;
  return `client certificate not accepted (${code})`;
}
