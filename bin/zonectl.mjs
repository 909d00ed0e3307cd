#!/usr/bin/env node
// Entry shim for `npx zonectl`: loads the TypeScript command through tsx.
import { register } from 'tsx/esm/api';

register();
await import('./zonectl.ts');
