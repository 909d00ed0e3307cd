// Types of bin/launcher.mjs (plain JavaScript: it runs before anything can load TypeScript).
export const REPO_ROOT: string;
export function cacheDirFor(root?: string): string;
export function withSourceUrl(text: string, url: string): string;
export function launch(entry: string, options?: { root?: string }): Promise<unknown>;
