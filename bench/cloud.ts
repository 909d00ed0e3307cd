import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type LocalCloud, startLocalCloud } from '../local/cloud';
import { silentLogger } from '../local/common/log';
import { withTimeout } from './report';

/** A local cloud of a bench stage's own: ephemeral ports, a temp dir, no log output. */
export interface BenchCloud {
  readonly cloud: LocalCloud;
  /** The stage's temp dir (the cloud's state is in `state/`); removed by `close()`. */
  readonly root: string;
  /** Stops the cloud (giving up after 15 s, told to `onSlow`) and removes the temp dir. */
  close(onSlow?: (message: string) => void): Promise<void>;
}

export async function startBenchCloud(stage: string): Promise<BenchCloud> {
  const root = mkdtempSync(join(tmpdir(), `zonectl-bench-${stage}-`));
  let cloud: LocalCloud;
  try {
    cloud = await startLocalCloud({
      stateDir: join(root, 'state'),
      mqttPort: 0,
      apiPort: 0,
      logger: silentLogger,
    });
  } catch (err) {
    rmSync(root, { recursive: true, force: true });
    throw err;
  }
  return {
    cloud,
    root,
    async close(onSlow) {
      await withTimeout('closing the local cloud', 15_000, cloud.close()).catch((err) =>
        onSlow?.((err as Error).message),
      );
      rmSync(root, { recursive: true, force: true });
    },
  };
}
