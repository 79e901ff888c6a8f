// katabot's own version, recorded in every trace header.
import { readFileSync } from 'node:fs';

let cached: string | undefined;

/** Set by esbuild in the katabot action's bundle (action/build.ts), which has no package.json beside it. */
declare const KATABOT_BUNDLED_VERSION: string | undefined;

export function katabotVersion(): string {
  if (cached === undefined && typeof KATABOT_BUNDLED_VERSION === 'string') cached = KATABOT_BUNDLED_VERSION;
  if (cached === undefined) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
      cached = pkg.version ?? '0.0.0';
    } catch {
      cached = '0.0.0';
    }
  }
  return cached;
}
