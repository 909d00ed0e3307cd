import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/**
 * Stages a function's code the way Lambda unpacks a deployment package into /var/task: a
 * directory of its own, where module resolution does not climb into whatever folder the cloud
 * assembly sits in. Without this, a CommonJS bundle in `cdk.out` inside a project whose
 * package.json says `"type": "module"` would load as an ES module, which Lambda never does.
 * Lambda treats `.js` as CommonJS unless the package itself says otherwise, so a package
 * without its own package.json gets one that says `"type": "commonjs"`.
 * (AWS Lambda Developer Guide, "Designating a function handler as an ES module".)
 */
export function stageTaskRoot(codeDir: string, tasksDir: string, functionName: string): string {
  const hash = contentHash(codeDir).slice(0, 16);
  const root = join(tasksDir, `${functionName}-${hash}`);
  if (existsSync(join(root, '.staged'))) return root;
  mkdirSync(root, { recursive: true });
  cpSync(codeDir, root, { recursive: true });
  if (!existsSync(join(codeDir, 'package.json'))) {
    writeFileSync(join(root, 'package.json'), '{ "type": "commonjs" }\n');
  }
  writeFileSync(join(root, '.staged'), `${codeDir}\n`);
  return root;
}

/** Every file under `dir`, in path order. */
function filesOf(dir: string): string[] {
  const files: string[] = [];
  const visit = (path: string) => {
    for (const entry of readdirSync(path).sort()) {
      const full = join(path, entry);
      if (statSync(full).isDirectory()) visit(full);
      else files.push(full);
    }
  };
  visit(dir);
  return files;
}

function contentHash(dir: string): string {
  const hash = createHash('sha256');
  for (const file of filesOf(dir)) hash.update(relative(dir, file)).update(readFileSync(file));
  return hash.digest('hex');
}

/**
 * CodeSize and CodeSha256 of a staged task root, for the management API: bytes of the code
 * files and the base64 SHA-256 of their contents in path order (the staging marker left out).
 * Lambda computes both over the zip package instead, so the figures differ from AWS's for the
 * same code, but change exactly when the code does.
 */
export function codeDigest(root: string): { codeSize: number; codeSha256: string } {
  const hash = createHash('sha256');
  let codeSize = 0;
  for (const file of filesOf(root)) {
    if (relative(root, file) === '.staged') continue;
    const bytes = readFileSync(file);
    codeSize += bytes.length;
    hash.update(bytes);
  }
  return { codeSize, codeSha256: hash.digest('base64') };
}
