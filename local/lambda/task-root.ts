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

function contentHash(dir: string): string {
  const hash = createHash('sha256');
  const visit = (path: string) => {
    for (const entry of readdirSync(path).sort()) {
      const full = join(path, entry);
      if (statSync(full).isDirectory()) visit(full);
      else hash.update(relative(dir, full)).update(readFileSync(full));
    }
  };
  visit(dir);
  return hash.digest('hex');
}
