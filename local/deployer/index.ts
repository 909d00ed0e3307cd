export { type CfnResource, type CfnTemplate, readAssembly, type StackArtifact } from './assembly';
export { deployStacks } from './deployer';
export { AssemblyError, DeployError, IntrinsicError } from './errors';
export { type LocalServices, localProviders } from './providers';
export type * from './types';
