export { localProviders } from './providers';
export type { LocalServices } from './shared';
