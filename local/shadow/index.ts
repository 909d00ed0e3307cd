export {
  applyDelete,
  applyUpdate,
  computeDelta,
  getDocument,
  parseUpdateRequest,
  type StoredShadow,
} from './document';
export { ShadowError, toAwsError } from './errors';
export { parseShadowRequestTopic } from './mqtt';
export { createIotDataRoute } from './route';
export { createShadowService } from './service';
export type { ListNamedShadowsResult, ShadowApi, ShadowService, ShadowServiceOptions } from './types';
