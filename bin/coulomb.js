#!/usr/bin/env node
// Entry point of the `coulomb` command: loads the TypeScript sources through tsx's loader.
import { register } from 'tsx/esm/api';

register();
const { run } = await import('../core/cli/main.ts');
await run(process.argv.slice(2));
