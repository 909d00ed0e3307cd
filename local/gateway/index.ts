export { credentialScope, parseJsonObject, renderError, renderResponse } from './protocol';
export { DEFAULT_MAX_BODY_BYTES, type Gateway, type GatewayOptions, startGateway } from './server';
export type * from './types';
