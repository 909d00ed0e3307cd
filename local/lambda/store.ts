/**
 * The functions the local Lambda runs, kept in `<dir>/functions.json` (a StateFile with a
 * last-good copy) so they run again after a restart without a redeploy, as deployed Lambda
 * functions do. Each definition points at its staged task root under `<dir>/tasks/`, which is a
 * copy of the bundled asset, so the function survives a rebuilt or removed `cdk.out` too.
 */
import { isAbsolute, join, relative, resolve } from 'node:path';
import { z } from 'zod';
import { type LocalLogger, StateFile } from '../common';
import type { FunctionDefinition } from './types';

export const FUNCTIONS_FILE = 'functions.json';

const DefinitionSchema = z.looseObject({
  functionName: z.string().min(1),
  arn: z.string().min(1),
  codeDir: z.string().min(1),
  handler: z.string().min(1),
  runtime: z.string().min(1),
  timeoutSeconds: z.number().optional(),
  memoryMb: z.number().optional(),
  environment: z.record(z.string(), z.string()).optional(),
  deadLetterTargetArn: z.string().optional(),
  onFailureDestinationArn: z.string().optional(),
  maximumRetryAttempts: z.number().optional(),
  maximumEventAgeSeconds: z.number().optional(),
  reservedConcurrency: z.number().optional(),
});

const StoredSchema = z.object({
  definition: DefinitionSchema,
  /** LastModified and RevisionId as the management API reports them, kept across restarts. */
  lastModified: z.string(),
  revisionId: z.string(),
});

const FileSchema = z.object({ functions: z.record(z.string(), StoredSchema) });

export interface StoredFunction {
  readonly definition: FunctionDefinition;
  readonly lastModified: string;
  readonly revisionId: string;
}

/** Drops undefined members, which JSON would drop anyway. */
const defined = (def: FunctionDefinition): FunctionDefinition =>
  Object.fromEntries(Object.entries(def).filter(([, v]) => v !== undefined)) as unknown as FunctionDefinition;

export class FunctionStore {
  private readonly file: StateFile<z.infer<typeof FileSchema>>;

  /** Staged code under the service's dir is kept relative, so a moved or copied state dir works. */
  constructor(
    private readonly dir: string,
    logger: LocalLogger,
  ) {
    this.file = StateFile.open({
      path: join(dir, FUNCTIONS_FILE),
      schema: FileSchema,
      initial: () => ({ functions: {} }),
      what: 'the deployed Lambda functions',
      logger,
      // The deployer creates them again on the next deploy.
      whenUnusable: 'start-empty',
    });
  }

  all(): StoredFunction[] {
    return Object.values(this.file.value.functions).map((f) => ({
      ...f,
      definition: {
        ...(f.definition as unknown as FunctionDefinition),
        codeDir: resolve(this.dir, f.definition.codeDir),
      },
    }));
  }

  put(def: FunctionDefinition, stamp: { lastModified: string; revisionId: string }): void {
    const inside = relative(this.dir, def.codeDir);
    const codeDir = inside.startsWith('..') || isAbsolute(inside) ? def.codeDir : inside;
    this.file.update((v) => {
      v.functions[def.functionName] = {
        definition: defined({ ...def, codeDir }) as z.infer<typeof DefinitionSchema>,
        ...stamp,
      };
    });
  }

  remove(functionName: string): void {
    if (!this.file.value.functions[functionName]) return;
    this.file.update((v) => {
      delete v.functions[functionName];
    });
  }
}
