export { unknownOperation } from './errors';
export { credentialScope, parseJsonObject, renderError, renderResponse } from './protocol';
export { browserRefusal, createGatewayService, DEFAULT_MAX_BODY_BYTES } from './service';
export type * from './types';
export { type XmlElements, type XmlValue, xmlDocument } from './xml';
