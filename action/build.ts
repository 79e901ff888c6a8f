// Bundles the katabot action (action.yml runs.main / runs.post) with esbuild: action/dist/main.js, post.js and
// tracer.js (`katabot trace` alone), ES modules for Node 20+ with their dependencies inside, so a runner needs no
// npm install. The bundles are not checked in: `npm run build:action` makes them, a release commits them on the
// release tag (docs/github-action.md), and the tests build them into a temporary directory.
//   node action/build.ts [OUT_DIR]
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const ENTRIES = { main: 'action/main.ts', post: 'action/post.ts', tracer: 'action/tracer.ts' } as const;

export async function buildAction(outDir = join(ROOT, 'action/dist')): Promise<{ outDir: string; bytes: Record<string, number> }> {
  rmSync(outDir, { recursive: true, force: true });
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: ENTRIES,
    outdir: outDir,
    chunkNames: 'chunks/[name]-[hash]',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // CommonJS dependencies inside an ES module bundle still call require()
    banner: { js: "import { createRequire as __katabotRequire } from 'node:module'; const require = __katabotRequire(import.meta.url);" },
    // @kubernetes/client-node: pod mode only (the action traces the host), and the client is large;
    // apache-arrow: only @azure/storage-blob's blob queries, which an upload never makes
    external: ['@kubernetes/client-node', 'apache-arrow'],
    // the version trace headers name (src/tracer/version.ts)
    define: { KATABOT_BUNDLED_VERSION: JSON.stringify((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version) },
    metafile: true,
    logLevel: 'warning',
    legalComments: 'eof',
  });
  // ES modules wherever the bundles are copied, whatever package.json is above them
  writeFileSync(join(outDir, 'package.json'), '{ "type": "module" }\n');
  const bytes: Record<string, number> = {};
  for (const [file, meta] of Object.entries(result.metafile.outputs)) bytes[file] = meta.bytes;
  return { outDir, bytes };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { outDir, bytes } = await buildAction(process.argv[2]);
  const total = Object.values(bytes).reduce((a, b) => a + b, 0);
  process.stdout.write(`action bundles in ${outDir}: ${Object.keys(bytes).length} files, ${(total / 1024 / 1024).toFixed(1)} MiB\n`);
}
