import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { ENV, requireEnv } from '../../contracts';

/**
 * Reads the JSON file the stack ships in the function's asset (named by ENV.configFile; a
 * relative name is read from the task root, `LAMBDA_TASK_ROOT`, where Lambda unpacks the
 * deployment package: AWS Lambda Developer Guide, "Defined runtime environment variables").
 */
export function readConfigFile(env: NodeJS.ProcessEnv = process.env): string {
  const name = requireEnv(ENV.configFile, env);
  const path = isAbsolute(name) ? name : join(env.LAMBDA_TASK_ROOT ?? process.cwd(), name);
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigFileError(
      `cannot read the function's config file ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); the stack ships it in the function's asset, so redeploy the stack`,
    );
  }
}

export class ConfigFileError extends Error {
  override readonly name = 'ConfigFileError';
}
