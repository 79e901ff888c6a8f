// Where packages come from (imperative shell): the repo's `.katabot/probes/`, a path given on the command line
// (a package directory or a bare `.bt` file), the built-in packages, and ConfigMaps in the cluster.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { BUILTIN_VERSION, builtinPackage, builtinPackages, isBuiltinName } from '../bpf/builtin.ts';
import {
  PACKAGE_FILE, PackageError, compareVersions, parsePackageRef, unnamedPackage, type BpfPackage,
} from '../bpf/package.ts';
import { repoPackage } from '../bpf/select.ts';

export const PROBES_DIR = '.katabot/probes';

/** `.katabot/probes` of the repository around `cwd` (searched upwards, stopping at the repository's root). */
export function findProbesDir(cwd = process.cwd()): string | undefined {
  let dir = resolve(cwd);
  for (;;) {
    const candidate = join(dir, PROBES_DIR);
    if (existsSync(candidate) && statSync(candidate).isDirectory()) return candidate;
    if (existsSync(join(dir, '.git'))) return undefined;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

function readDir(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const f of readdirSync(dir)) {
    const p = join(dir, f);
    if (statSync(p).isFile() && (f === PACKAGE_FILE || f.endsWith('.bt'))) files[f] = readFileSync(p, 'utf8');
  }
  return files;
}

/** A package directory (package.yaml + program). */
export function loadPackageDir(dir: string, origin: 'repo' | 'file' = 'file'): BpfPackage {
  const abs = resolve(dir);
  return repoPackage(readDir(abs), { kind: origin, path: abs }, dir);
}

/** A path: a package directory, a package.yaml, or a bare `.bt` file (an unnamed package). */
function loadPackagePath(path: string): BpfPackage {
  const abs = resolve(path);
  if (!existsSync(abs)) throw new PackageError(path, ['no such file or directory']);
  if (statSync(abs).isDirectory()) return loadPackageDir(abs);
  if (abs.endsWith(`/${PACKAGE_FILE}`)) return loadPackageDir(dirname(abs));
  return unnamedPackage(path, readFileSync(abs, 'utf8'));
}

export interface RepoListing {
  packages: BpfPackage[];
  /** Directories that are not valid packages, with why. */
  broken: Array<{ path: string; error: string }>;
}

/** Every package under a probes directory: each subdirectory with a package.yaml (several may hold versions of one
 * package), and bare `.bt` files as unnamed packages. */
function listRepoPackages(probesDir: string | undefined): RepoListing {
  const out: RepoListing = { packages: [], broken: [] };
  if (!probesDir || !existsSync(probesDir)) return out;
  for (const entry of readdirSync(probesDir).sort()) {
    const p = join(probesDir, entry);
    try {
      if (statSync(p).isDirectory()) {
        if (!existsSync(join(p, PACKAGE_FILE))) continue;
        out.packages.push(loadPackageDir(p, 'repo'));
      } else if (entry.endsWith('.bt')) {
        const pkg = unnamedPackage(p, readFileSync(p, 'utf8'));
        out.packages.push({ ...pkg, origin: { kind: 'repo', path: p } });
      }
    } catch (err) {
      out.broken.push({ path: relative(process.cwd(), p) || p, error: (err as Error).message });
    }
  }
  return out;
}

/** Packages kept in the cluster (src/adapters/bpf-cluster.ts). */
export interface ClusterPackages {
  listPackages(): Promise<BpfPackage[]>;
}

export interface PackageSources {
  probesDir?: string;
  cluster?: ClusterPackages;
}

function pick(candidates: BpfPackage[], version: string | undefined): BpfPackage | undefined {
  const sorted = [...candidates].sort((a, b) => compareVersions(b.meta.version, a.meta.version));
  return version === undefined ? sorted[0] : sorted.find((p) => p.meta.version === version);
}

/**
 * A package by reference: a path; else a built-in name; else the repo's packages of that name (the highest
 * version unless `@VERSION`); else the cluster's. Throws PackageError saying what exists.
 */
export async function resolvePackage(ref: string, sources: PackageSources): Promise<BpfPackage> {
  const r = parsePackageRef(ref);
  if (r.kind === 'path') return loadPackagePath(r.path);
  if (isBuiltinName(r.name)) {
    if (r.version !== undefined && r.version !== BUILTIN_VERSION) throw new PackageError(ref, [`built-in package ${r.name} is version ${BUILTIN_VERSION}`]);
    return builtinPackage(r.name)!;
  }
  const repo = listRepoPackages(sources.probesDir);
  const broken = repo.broken.filter((b) => b.path.split('/').pop() === r.name);
  const inRepo = pick(repo.packages.filter((p) => p.meta.name === r.name), r.version);
  if (inRepo) return inRepo;
  let inCluster: BpfPackage[] = [];
  if (sources.cluster) inCluster = (await sources.cluster.listPackages()).filter((p) => p.meta.name === r.name);
  const found = pick(inCluster, r.version);
  if (found) return found;
  const versions = [...repo.packages, ...inCluster].filter((p) => p.meta.name === r.name).map((p) => p.meta.version);
  if (versions.length > 0) throw new PackageError(ref, [`no version ${r.version} (there is ${[...new Set(versions)].join(', ')})`]);
  if (broken.length > 0) throw new PackageError(ref, broken.map((b) => `${b.path} is not a valid package: ${b.error}`));
  const known = [...new Set([...builtinPackages(), ...repo.packages, ...inCluster].map((p) => p.meta.name))].sort();
  throw new PackageError(ref, [`no package ${r.name}${sources.probesDir ? '' : ` (no ${PROBES_DIR} here)`}; known: ${known.join(', ')}`]);
}

export interface PackageRow {
  name: string;
  version: string;
  origin: string;
  description: string;
  events: string;
}

/** `katabot bpf packages`: built-in, repo and cluster packages, one row per version. */
export async function listPackages(sources: PackageSources): Promise<{ rows: PackageRow[]; broken: RepoListing['broken']; clusterError?: string }> {
  const repo = listRepoPackages(sources.probesDir);
  let cluster: BpfPackage[] = [];
  let clusterError: string | undefined;
  if (sources.cluster) {
    try {
      cluster = await sources.cluster.listPackages();
    } catch (err) {
      clusterError = (err as Error).message;
    }
  }
  const rows = [...builtinPackages(), ...repo.packages, ...cluster].map((p) => ({
    name: p.meta.name,
    version: p.meta.version,
    origin: p.origin.kind === 'builtin' ? 'built-in' : p.origin.kind === 'cluster' ? `configmap/${p.origin.configMap}` : relative(process.cwd(), p.origin.path) || p.origin.path,
    description: p.meta.description,
    events: p.meta.unnamed ? '(any output)' : p.meta.events.map((e) => (e.kind === 'custom' || e.kind === e.name ? e.name : `${e.name}→${e.kind}`)).join(','),
  }));
  return { rows, broken: repo.broken, ...(clusterError !== undefined ? { clusterError } : {}) };
}
