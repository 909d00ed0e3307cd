export {
  applyDelete,
  applyUpdate,
  computeDelta,
  getDocument,
  parseUpdateRequest,
  type StoredShadow,
} from './document';
export { ShadowError, toAwsError } from './errors';
export { shadowRoute } from './route';
export {
  createShadowService,
  type ListNamedShadowsResult,
  parseShadowRequestTopic,
  type ShadowApi,
  type ShadowService,
  type ShadowServiceOptions,
} from './service';
