/**
 * The AWS API gateway of the local cloud: one HTTP port that answers the AWS SDK v3 and the
 * AWS CLI for every local service. Each request is parsed once (method, path, query,
 * headers, body, SigV4 signing name, X-Amz-Target) and offered to the routes in order; the
 * first whose `matches` returns true handles it. While its owner starts (`starting`, until
 * `ready()`), a request no route claims yet is answered 503 ServiceUnavailable (AWS General
 * Reference, "Common Errors"), which SDKs and the CLI retry.
 *
 * Follows: AWS General Reference, "Signature Version 4 signing process" > credential scope
 * (`AKID/date/region/service/aws4_request` names the service), and the Smithy AWS protocol
 * specifications for error rendering (see protocol.ts).
 *
 * LIMITATIONS versus AWS:
 * - Signatures are not verified: any credentials are accepted and no IAM policy applies.
 * - Plain HTTP on loopback by default; no TLS, no virtual-host addressing, no per-service
 *   hostnames (clients must use an endpoint URL).
 * - Request bodies are limited to 10 MB (413 RequestEntityTooLarge); AWS limits vary by service.
 *   A body announced larger than that is refused as soon as its headers arrive, and the rest of
 *   it is read and thrown away, never kept.
 * - Slow clients: headers must arrive within 20 s and the whole request within 120 s (408,
 *   then the connection is closed), checked every second, so a client that trickles bytes
 *   holds one socket for a bounded time and does not hold up other clients.
 * - Browsers: no CORS. A request that carries an Origin other than the gateway's own (a web
 *   page of another site) or a Host that is not a loopback name (DNS rebinding) is refused
 *   with 403, so a page in the user's browser cannot drive the local APIs. AWS SDKs and CLIs
 *   send no Origin.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AwsServiceError, errorText } from '../common';
import { accessDenied, internalFailure, requestEntityTooLarge, starting, unknownOperation } from './errors';
import {
  newRequestId,
  type RenderedResponse,
  renderError,
  renderResponse,
  renderUnrouted,
  toAwsRequest,
} from './protocol';
import type { AwsProtocol, AwsRequest, GatewayService, GatewayServiceOptions, ServiceRoute } from './types';

export const DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024;
export const DEFAULT_HEADERS_TIMEOUT_MS = 20_000;
export const DEFAULT_REQUEST_TIMEOUT_MS = 120_000;

const LOOPBACK_HOST = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?$/i;

/** Why a request from a browser must be refused, or undefined when it may proceed. */
export function browserRefusal(headers: Readonly<Record<string, string>>): string | undefined {
  const host = headers.host ?? '';
  if (host !== '' && !LOOPBACK_HOST.test(host)) return `Host '${host}' is not a loopback name`;
  const origin = headers.origin;
  if (origin !== undefined && origin !== `http://${host}`) return `cross-origin request from ${origin}`;
  return undefined;
}

/** The protocol a route answers this request in. */
function protocolOf(route: ServiceRoute, req: AwsRequest): AwsProtocol {
  try {
    return route.protocolOf?.(req) ?? route.protocol;
  } catch {
    return route.protocol;
  }
}

const errorContext = (route: ServiceRoute) => ({
  ...(route.errorNamespace ? { namespace: route.errorNamespace } : {}),
  ...(route.xmlNamespace ? { xmlNamespace: route.xmlNamespace } : {}),
});

export async function createGatewayService(options: GatewayServiceOptions): Promise<GatewayService> {
  const logger = options.logger.child('gateway');
  const routes: ServiceRoute[] = [...options.routes];
  let ready = options.starting !== true;
  const maxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const host = options.host ?? '127.0.0.1';

  const send = (res: ServerResponse, out: RenderedResponse) => {
    if (res.headersSent || res.destroyed) return;
    res.writeHead(out.status, out.headers);
    res.end(out.body);
  };

  async function dispatch(req: AwsRequest, res: ServerResponse): Promise<void> {
    const requestId = newRequestId();
    const what = `${req.method} ${req.rawPath}${req.target ? ` (${req.target})` : ''}`;
    const refusal = browserRefusal(req.headers);
    if (refusal) {
      logger.warn(`refused ${what}: ${refusal}`);
      send(res, renderUnrouted(req, accessDenied(refusal), requestId));
      return;
    }
    let route: ServiceRoute | undefined;
    try {
      route = routes.find((r) => r.matches(req));
    } catch (err) {
      logger.error(`route matching failed for ${what}: ${errorText(err)}`);
    }
    if (!route && !ready) {
      send(res, renderUnrouted(req, starting(), requestId));
      return;
    }
    if (!route) {
      const service = req.signingService ? ` (signing service ${req.signingService})` : '';
      const target = req.target ? ` with X-Amz-Target ${req.target}` : '';
      const message = `No local service handles ${req.method} ${req.path}${target}${service}`;
      logger.warn(message);
      send(res, renderUnrouted(req, unknownOperation(message), requestId));
      return;
    }
    const protocol = protocolOf(route, req);
    try {
      const out = await route.handle(req);
      send(res, renderResponse(protocol, out, requestId));
    } catch (err) {
      if (err instanceof AwsServiceError) {
        const line = `${route.name} ${what} -> ${err.status} ${err.code}: ${err.message}`;
        if (err.status >= 500) logger.error(line);
        else logger.info(line);
        send(res, renderError(protocol, err, requestId, errorContext(route)));
        return;
      }
      logger.error(`${route.name} ${what} failed unexpectedly: ${errorText(err)}`);
      const internal = internalFailure(protocol, route.internalErrorCode);
      send(res, renderError(protocol, internal, requestId, errorContext(route)));
    }
  }

  function onRequest(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    /** Answers 413 at once; the rest of the body is read and dropped, so nothing more is kept. */
    const refuseTooLarge = () => {
      refused = true;
      chunks.length = 0;
      const awsReq = toAwsRequest(req, Buffer.alloc(0));
      const message = `Request body exceeds the local gateway limit of ${maxBody} bytes`;
      logger.warn(`refused ${awsReq.method} ${awsReq.rawPath}: ${message}`);
      send(res, renderUnrouted(awsReq, requestEntityTooLarge(message), newRequestId()));
    };
    if (Number(req.headers['content-length'] ?? 0) > maxBody) refuseTooLarge();
    req.on('data', (chunk: Buffer) => {
      if (refused) return; // keep draining so the client can read the refusal
      size += chunk.length;
      if (size > maxBody) {
        refuseTooLarge();
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', (err) =>
      logger.warn(`request stream error on ${req.method} ${req.url}: ${errorText(err)}`),
    );
    req.on('end', () => {
      if (refused) return;
      const awsReq = toAwsRequest(req, Buffer.concat(chunks));
      dispatch(awsReq, res).catch((err: unknown) => {
        logger.error(`dispatch failed for ${req.method} ${req.url}: ${errorText(err)}`);
        if (!res.headersSent) res.writeHead(500).end();
      });
    });
  }

  const headersTimeout = options.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS;
  const server = createServer(
    {
      headersTimeout,
      requestTimeout: Math.max(options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS, headersTimeout),
      // How often Node checks the two timeouts above (its default is 30 s).
      connectionsCheckingInterval: Math.min(1_000, headersTimeout),
    },
    onRequest,
  );
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    const slow = err.code === 'ERR_HTTP_REQUEST_TIMEOUT';
    if (slow) {
      logger.warn(
        `closed a connection whose request did not arrive in time (headers within ${headersTimeout} ms, the whole request within ${server.requestTimeout} ms)`,
      );
    } else {
      logger.warn(`malformed HTTP request refused: ${errorText(err)}`);
    }
    const status = slow ? '408 Request Timeout' : '400 Bad Request';
    // The socket is closed once the answer is written, whatever the client keeps sending.
    if (socket.writable)
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`, () =>
        socket.destroy(),
      );
    else socket.destroy();
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  const endpoint = `http://${urlHost}:${port}`;
  logger.info(`AWS API gateway listening on ${endpoint}`);

  return {
    endpoint,
    port,
    addRoute: (route) => {
      routes.push(route);
    },
    ready: () => {
      ready = true;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
