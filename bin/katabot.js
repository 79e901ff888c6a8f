#!/usr/bin/env node
// Runs the TypeScript sources directly when they are present and Node can strip types (development),
// otherwise the compiled build in dist/ (images and installs).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const useSource = existsSync(`${root}src/cli/main.ts`) && process.features.typescript;
// `katabot guest` runs inside every traced Kata guest: it loads only its own modules (start-up time and memory
// count there), not the bot's.
const name = process.argv[2] === 'guest' ? 'guest-main' : 'main';
const entry = useSource ? `../src/cli/${name}.ts` : `../dist/cli/${name}.js`;
const { main } = await import(entry);
process.exitCode = await main(process.argv);
