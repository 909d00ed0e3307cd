/**
 * Errors of the InfluxDB v2 HTTP API, answered as InfluxDB does: a status code and a JSON body
 * `{"code": ..., "message": ...}` (InfluxDB OSS v2 API reference, error responses; codes
 * `invalid`, `unauthorized`, `not found`, `unprocessable entity`, `conflict`,
 * `request too large`, `internal error`).
 */
export class InfluxHttpError extends Error {
  override readonly name = 'InfluxHttpError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export const invalid = (message: string, extra: Record<string, unknown> = {}) =>
  new InfluxHttpError(400, 'invalid', message, extra);
export const unauthorized = (message = 'unauthorized access') =>
  new InfluxHttpError(401, 'unauthorized', message);
export const forbidden = (message: string) => new InfluxHttpError(403, 'forbidden', message);
export const notFound = (message: string) => new InfluxHttpError(404, 'not found', message);
export const tooLarge = (maxLength: number) =>
  new InfluxHttpError(413, 'request too large', 'unable to read data: request body too large', { maxLength });
export const unprocessable = (message: string) => new InfluxHttpError(422, 'unprocessable entity', message);
