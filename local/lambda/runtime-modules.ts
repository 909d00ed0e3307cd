import { lstatSync, mkdirSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, sep } from 'node:path';

/**
 * The modules the Node.js managed runtime provides to every function: the AWS SDK for
 * JavaScript v3 (AWS Lambda Developer Guide, "Building Lambda functions with Node.js": runtimes
 * from nodejs18.x on include it), found through the runtime's NODE_PATH ("Defined runtime
 * environment variables"). Function bundles leave `@aws-sdk/*` out, so the local Lambda must
 * provide it the same way.
 *
 * This makes `<dir>/node_modules/@aws-sdk` a link to the `@aws-sdk` folder the local cloud itself
 * was installed with and returns `<dir>/node_modules` for NODE_PATH. Only `@aws-sdk` is linked:
 * a bundle that forgot to include another package fails here as it would on AWS.
 *
 * LIMITATIONS versus AWS: the SDK version is the project's (package-lock.json), not the one the
 * managed runtime ships ("Lambda runtimes" > "Runtime-included SDK versions" lists it; AWS
 * updates it with the runtime). Only the SDK clients installed in the project exist; the
 * managed runtime has every client.
 */
export function provideRuntimeModules(dir: string): string {
  const modules = join(dir, 'node_modules');
  const link = join(modules, '@aws-sdk');
  const target = installedSdkFolder();
  mkdirSync(modules, { recursive: true });
  let current: string | undefined;
  try {
    current = lstatSync(link).isSymbolicLink() ? readlinkSync(link) : '';
  } catch {
    current = undefined;
  }
  if (current !== target) {
    if (current !== undefined) rmSync(link, { recursive: true, force: true });
    // 'junction' makes a directory link without extra rights on Windows; POSIX ignores it.
    symlinkSync(target, link, 'junction');
  }
  return modules;
}

/** The `node_modules/@aws-sdk` folder the local cloud resolves the SDK from. */
function installedSdkFolder(): string {
  const client = createRequire(import.meta.url).resolve('@aws-sdk/client-sqs');
  const marker = `${sep}node_modules${sep}@aws-sdk${sep}`;
  const at = client.lastIndexOf(marker);
  if (at < 0) return dirname(dirname(dirname(client)));
  return client.slice(0, at + marker.length - 1);
}
