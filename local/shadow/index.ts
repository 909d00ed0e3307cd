export {
  applyDelete,
  applyUpdate,
  computeDelta,
  getDocument,
  parseUpdateRequest,
  ShadowError,
  type StoredShadow,
} from './document';
export { shadowRoute, toAwsError } from './route';
export {
  createShadowService,
  type ListNamedShadowsResult,
  parseShadowRequestTopic,
  type ShadowApi,
  type ShadowService,
  type ShadowServiceOptions,
} from './service';
