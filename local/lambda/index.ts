export { createLambdaRoute } from './route';
export { createLambdaService } from './service';
export type {
  FunctionDefinition,
  FunctionErrorPayload,
  FunctionSummary,
  InvocationType,
  InvokeResult,
  LambdaService,
  LambdaServiceOptions,
  SendToQueue,
} from './types';
