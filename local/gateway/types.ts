/**
 * The contract between the AWS API gateway (one HTTP port for every local service) and the
 * services behind it. The gateway parses the request, works out which service it is for
 * (SigV4 credential scope, X-Amz-Target, path), calls the route, and renders AwsServiceError
 * in the service's protocol.
 */

import type { LocalLogger } from '../common';

export type AwsProtocol = 'rest-json' | 'json-1.0' | 'json-1.1' | 'query';

export interface AwsRequest {
  readonly method: string;
  /** Decoded path, without the query string, e.g. `/things/my-thing/shadow`. */
  readonly path: string;
  /** Raw (still percent-encoded) path, for services whose names contain '/' (e.g. topics). */
  readonly rawPath: string;
  readonly query: URLSearchParams;
  /** Lower-cased header names. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
  /** Signing name from the Authorization header's credential scope (iot, iotdata, timestream, sqs, ...). */
  readonly signingService?: string;
  /** X-Amz-Target header for JSON protocols, e.g. `Timestream_20181101.WriteRecords`. */
  readonly target?: string;
  /** Access key id from the Authorization header (any credentials are accepted locally). */
  readonly accessKeyId?: string;
}

export interface AwsResponse {
  readonly status: number;
  readonly headers?: Record<string, string>;
  /** Objects are sent as JSON with the protocol's content type. */
  readonly body?: Buffer | string | object;
}

export interface ServiceRoute {
  /** Service name for logs and errors, e.g. `iot`, `iotdata`, `timestream-write`. */
  readonly name: string;
  readonly protocol: AwsProtocol;
  /**
   * For a service that speaks two protocols on one route (SQS: AWS JSON 1.0 and the query
   * protocol): the protocol of this request, which the gateway renders the response and any
   * error in. Default: `protocol`.
   */
  protocolOf?(req: AwsRequest): AwsProtocol;
  /**
   * Query protocol: the XML namespace of the service's responses and ErrorResponse (SQS:
   * `http://queue.amazonaws.com/doc/2012-11-05/`).
   */
  readonly xmlNamespace?: string;
  /**
   * The exception the service's model names for an internal failure, which the gateway answers
   * (status 500) when `handle` throws anything but an AwsServiceError; default
   * `InternalFailureException` for rest-json and `InternalFailure` for the JSON protocols.
   */
  readonly internalErrorCode?: string;
  /**
   * JSON protocols: the Smithy namespace the service qualifies `__type` with in error bodies
   * (SQS sends `com.amazonaws.sqs#QueueDoesNotExist`); default none, the bare shape name.
   */
  readonly errorNamespace?: string;
  /** True if this route serves the request. The gateway asks routes in registration order. */
  matches(req: AwsRequest): boolean;
  handle(req: AwsRequest): Promise<AwsResponse>;
}

export interface GatewayServiceOptions {
  /** Interface to listen on; default 127.0.0.1. */
  readonly host?: string;
  /** TCP port; 0 picks a free one. */
  readonly port: number;
  readonly routes: readonly ServiceRoute[];
  readonly logger: LocalLogger;
  /** Largest accepted request body; default 10 MB. */
  readonly maxBodyBytes?: number;
  /** A client that has not sent all its headers within this gets 408 and is closed; default 20 s. */
  readonly headersTimeoutMs?: number;
  /** A client that has not sent its whole request within this gets 408 and is closed; default 120 s. */
  readonly requestTimeoutMs?: number;
  /**
   * The owner adds its routes after the gateway listens and calls `ready()` once they are all
   * there; until then a request no route claims gets 503 ServiceUnavailable, which clients
   * retry, rather than UnknownOperationException. Default false: every route is given here.
   */
  readonly starting?: boolean;
}

export interface GatewayService {
  /** Base URL for clients, e.g. `http://127.0.0.1:4600`. */
  readonly endpoint: string;
  readonly port: number;
  /** Adds a route after the existing ones. */
  addRoute(route: ServiceRoute): void;
  /** Every route is added (see `starting`): a request no route claims is now unknown. */
  ready(): void;
  close(): Promise<void>;
}
