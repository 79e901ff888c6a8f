// Builds the dashboard front end (web/) into dist/web: one ES module bundle (Preact + the app) and one stylesheet,
// minified, content-hashed (served as immutable), precompressed with brotli and gzip, and a manifest.json that the
// server reads to name them in its HTML shell. `npm run build` runs it after tsc; tests call buildWeb() directly.
//   node web/build.ts [OUT_DIR]   (the Dockerfile's build stage needs only `COPY web ./web` for it)
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { createHash } from 'node:crypto';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface WebBuild {
  outDir: string;
  manifest: Record<string, string>;
  /** Bytes of each output, raw and brotli. */
  sizes: Record<string, { raw: number; br: number; gz: number }>;
}

export async function buildWeb(outDir = join(ROOT, 'dist/web'), opts: { sourcemap?: boolean } = {}): Promise<WebBuild> {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: { app: 'web/src/main.tsx' },
    outdir: outDir,
    entryNames: '[name]-[hash]',
    assetNames: '[name]-[hash]',
    bundle: true,
    format: 'esm',
    splitting: false,
    minify: true,
    sourcemap: opts.sourcemap === false ? false : 'linked',
    target: ['es2022', 'chrome111', 'safari16.4', 'firefox115'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    tsconfig: join(ROOT, 'web/tsconfig.json'),
    metafile: true,
    legalComments: 'linked',
    logLevel: 'warning',
    define: { 'process.env.NODE_ENV': '"production"' },
  });
  const manifest: Record<string, string> = {};
  for (const [file, meta] of Object.entries(result.metafile.outputs)) {
    const name = basename(file);
    if (meta.entryPoint && name.endsWith('.js')) manifest['app.js'] = name;
    else if (name.endsWith('.css')) manifest['app.css'] = name;
  }
  // The favicon, hashed like the rest.
  const icon = readFileSync(join(ROOT, 'web/favicon.svg'));
  const iconName = `favicon-${createHash('sha256').update(icon).digest('hex').slice(0, 8)}.svg`;
  writeFileSync(join(outDir, iconName), icon);
  manifest['favicon.svg'] = iconName;
  if (!manifest['app.js'] || !manifest['app.css']) throw new Error(`build-web: missing outputs in ${relative(ROOT, outDir)}: ${JSON.stringify(manifest)}`);

  const sizes: WebBuild['sizes'] = {};
  for (const name of Object.values(manifest)) {
    const body = readFileSync(join(outDir, name));
    const br = brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } });
    const gz = gzipSync(body, { level: 9 });
    writeFileSync(join(outDir, `${name}.br`), br);
    writeFileSync(join(outDir, `${name}.gz`), gz);
    sizes[name] = { raw: body.length, br: br.length, gz: gz.length };
  }
  writeFileSync(join(outDir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  return { outDir, manifest, sizes };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const out = process.argv[2] ? join(process.cwd(), process.argv[2]) : undefined;
  const b = await buildWeb(out);
  for (const [name, s] of Object.entries(b.sizes)) {
    console.log(`build-web: ${relative(process.cwd(), join(b.outDir, name))}  ${(s.raw / 1024).toFixed(1)} KiB, ${(s.br / 1024).toFixed(1)} KiB brotli`);
  }
}
