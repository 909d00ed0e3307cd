export { checkTemplateBody, planProvisioning, TemplateError } from './engine';
export { createProvisioningService, HOOK_TIMEOUT_MS, TOKEN_TTL_MS } from './service';
export type * from './types';
