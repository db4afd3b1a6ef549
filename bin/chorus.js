#!/usr/bin/env node
// The `chorus` command: the built CLI when there is one, else (in a checkout) the sources through tsx.
import { existsSync } from 'node:fs';

const built = new URL('../dist/cli/main.js', import.meta.url);
const source = new URL('../src/cli/main.ts', import.meta.url);
let cli;
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  cli = await import(source.href);
} else {
  cli = await import(built.href);
}
process.exitCode = await cli.main(process.argv.slice(2));
