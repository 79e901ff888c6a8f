// `/trace --probe a,b,c`: which packages a traced job gets. Built-in names stand for themselves; other names are
// looked up among the repository's packages (the handler reads .katabot/probes from the base branch), the highest
// version unless `@version`. Pure.
import { isBuiltinName, BUILTIN_NAMES } from './builtin.ts';
import { compareVersions, packageFromFiles, packageId, parsePackageRef, PackageError, type BpfPackage, type PackageOrigin } from './package.ts';
import { checkPackage, formatProblems } from './validate.ts';

export interface ProbeSelection {
  /** For injectTracer: built-in names and exact `name@version` of custom packages, in the order asked. */
  probes: string[];
  /** The custom packages among them, for injectTracer (they travel to the sidecar in the pod spec). */
  packages: BpfPackage[];
  /** References that name no package (reply with `known`). */
  unknown: string[];
  /** Custom packages that fail the static checks: `name@version: program.bt:3: error: …`. */
  problems: string[];
  /** Every package name that could have been asked for. */
  known: string[];
}

export function selectProbes(refs: readonly string[], repo: readonly BpfPackage[]): ProbeSelection {
  const sel: ProbeSelection = { probes: [], packages: [], unknown: [], problems: [], known: [...new Set([...BUILTIN_NAMES, ...repo.map((p) => p.meta.name)])].sort() };
  for (const ref of refs) {
    let r: ReturnType<typeof parsePackageRef>;
    try {
      r = parsePackageRef(ref);
    } catch (err) {
      if (!(err instanceof PackageError)) throw err;
      sel.unknown.push(ref);
      continue;
    }
    if (r.kind !== 'name') {
      sel.unknown.push(ref);
      continue;
    }
    if (isBuiltinName(r.name)) {
      if (!sel.probes.includes(r.name)) sel.probes.push(r.name);
      continue;
    }
    const versions = repo.filter((p) => p.meta.name === r.name).sort((a, b) => compareVersions(b.meta.version, a.meta.version));
    const pkg = r.version === undefined ? versions[0] : versions.find((p) => p.meta.version === r.version);
    if (!pkg) {
      sel.unknown.push(ref);
      continue;
    }
    const id = packageId(pkg.meta);
    if (sel.probes.includes(id)) continue;
    const errors = checkPackage(pkg).filter((p) => p.severity === 'error');
    if (errors.length > 0) {
      for (const line of formatProblems(pkg.meta.program, errors)) sel.problems.push(`${id}: ${line}`);
      continue;
    }
    sel.probes.push(id);
    sel.packages.push(pkg);
  }
  return sel;
}

/** A package directory of a repository: a built-in's name is reserved (a repository cannot replace `exec`). */
export function repoPackage(files: Record<string, string>, origin: PackageOrigin, dir: string): BpfPackage {
  const pkg = packageFromFiles(files, origin, dir);
  if (isBuiltinName(pkg.meta.name)) throw new PackageError(dir, [`name ${pkg.meta.name} is reserved for a built-in package`]);
  return pkg;
}

/** The packages of `.katabot/probes` directories read from a branch, and the directories that are none, with why. */
export function repoPackages(dirs: ReadonlyArray<{ path: string; files: Record<string, string> }>): { packages: BpfPackage[]; problems: string[] } {
  const out: { packages: BpfPackage[]; problems: string[] } = { packages: [], problems: [] };
  for (const dir of dirs) {
    try {
      out.packages.push(repoPackage(dir.files, { kind: 'repo', path: dir.path }, dir.path));
    } catch (err) {
      if (!(err instanceof PackageError)) throw err;
      out.problems.push(err.message);
    }
  }
  return out;
}
