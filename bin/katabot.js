#!/usr/bin/env node
// Runs the TypeScript sources directly when they are present and Node can strip types (development),
// otherwise the compiled build in dist/ (images and installs).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const useSource = existsSync(`${root}src/cli/main.ts`) && process.features.typescript;
const entry = useSource ? '../src/cli/main.ts' : '../dist/cli/main.js';
const { main } = await import(entry);
process.exitCode = await main(process.argv);
