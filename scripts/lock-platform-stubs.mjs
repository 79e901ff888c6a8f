#!/usr/bin/env node
// Adds package-lock entries for optional platform packages that this workplace's npm registry mirror does
// not carry (it serves only the Linux builds). Without them `npm ci` refuses the lock ("Missing: … from lock
// file") on every machine, although npm would skip those packages on Linux anyway. Run after `npm install`.
import { readFileSync, writeFileSync } from 'node:fs';

const file = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(file, 'utf8'));
const packages = lock.packages;
let added = 0;
for (const [path, meta] of Object.entries(packages)) {
  for (const [name, version] of Object.entries(meta.optionalDependencies ?? {})) {
    const nested = `${path ? `${path}/` : ''}node_modules/${name}`;
    if (packages[nested] || packages[`node_modules/${name}`]) continue;
    const platform = name.match(/-(darwin|linux|win32|freebsd|android)-(arm64|x64|arm|ia32)$/);
    if (!platform) continue; // only platform builds are stubbed; anything else is a real lock problem
    packages[`node_modules/${name}`] = {
      version,
      resolved: `https://registry.npmjs.org/${name}/-/${name.split('/').pop()}-${version}.tgz`,
      cpu: [platform[2]],
      optional: true,
      os: [platform[1]],
    };
    added++;
  }
}
writeFileSync(file, JSON.stringify(lock, null, 2) + '\n');
console.log(`lock-platform-stubs: added ${added} entr${added === 1 ? 'y' : 'ies'}`);
