#!/usr/bin/env node
// Entry for `npx zonectl` and `npm start`: runs bin/zonectl.ts from a build kept in the
// node_modules cache and made again whenever a source changes (bin/launcher.mjs).
import { launch } from './launcher.mjs';

await launch('bin/zonectl.ts');
