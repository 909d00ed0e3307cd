import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AwsRequest, ServiceRoute } from '../../../local/gateway/types';

/**
 * Serves routes over HTTP on an ephemeral port, for tests: builds the AwsRequest the gateway
 * would (signing name from the SigV4 scope, X-Amz-Target) and writes the AwsResponse as is.
 */
export async function serveRoutes(
  routes: ServiceRoute[],
): Promise<{ endpoint: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
      const scope = /Credential=([^/]+)\/[^/]+\/[^/]+\/([^/]+)\//.exec(headers.authorization ?? '');
      const awsReq: AwsRequest = {
        method: req.method ?? 'GET',
        path: decodeURIComponent(url.pathname),
        rawPath: url.pathname,
        query: url.searchParams,
        headers,
        body: Buffer.concat(chunks),
        ...(scope ? { accessKeyId: scope[1]!, signingService: scope[2]! } : {}),
        ...(headers['x-amz-target'] ? { target: headers['x-amz-target'] } : {}),
      };
      const route = routes.find((r) => r.matches(awsReq));
      if (!route) {
        res.writeHead(404).end();
        return;
      }
      route.handle(awsReq).then(
        (out) => {
          const body =
            out.body === undefined
              ? ''
              : Buffer.isBuffer(out.body) || typeof out.body === 'string'
                ? out.body
                : JSON.stringify(out.body);
          res.writeHead(out.status, out.headers ?? {}).end(body);
        },
        (err: unknown) => {
          res.writeHead(500).end(String(err));
        },
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
