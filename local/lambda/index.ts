export { createLambdaRoute } from './route';
export { createLambdaService } from './service';
export type {
  EventSourceMappingView,
  FunctionDefinition,
  FunctionErrorPayload,
  FunctionInfo,
  FunctionSummary,
  InvocationType,
  InvokeResult,
  LambdaService,
  LambdaServiceOptions,
  SendToQueue,
} from './types';
