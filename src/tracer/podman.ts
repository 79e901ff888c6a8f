// Podman pods as the pods a trace follows (`katabot trace --podman`): a pod's id is its UID (its cgroup is
// /libpod_parent/<id> or machine-libpod_pod_<id>.slice, src/trace/cgroup-path.ts), its containers are named as Podman
// names them, its labels come along. The facts come from the `podman` command, as the API server gives them for
// Kubernetes pods; a label selector is Podman's label filters (equality and existence terms).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { TraceUsageError } from './errors.ts';
import type { PodInfo, PodSource } from './pods.ts';

const run = promisify(execFile);

interface PodmanPod {
  Id?: string;
  Name?: string;
  Labels?: Record<string, string> | null;
  Containers?: Array<{ Id?: string; Name?: string; Names?: string }> | null;
}

export function podInfoFromPodman(pod: PodmanPod, namespace: string): PodInfo {
  const containers = new Map<string, string>();
  for (const c of pod.Containers ?? []) if (c.Id) containers.set(c.Id, c.Name ?? c.Names ?? c.Id);
  const info: PodInfo = { namespace, name: pod.Name ?? '', uid: pod.Id ?? '', containers };
  if (pod.Labels && Object.keys(pod.Labels).length > 0) info.labels = { ...pod.Labels };
  return info;
}

/** `k=v,k2==v2,k3` → podman `--filter label=…` arguments; set-based selectors are refused. */
export function labelFilters(selector: string): string[] {
  const out: string[] = [];
  for (const term of selector.split(',').map((t) => t.trim()).filter((t) => t !== '')) {
    const m = /^([A-Za-z0-9._/-]+)\s*(?:(==?)\s*([A-Za-z0-9._-]*))?$/.exec(term);
    if (!m) throw new TraceUsageError(`-l ${selector}: podman pods are selected by key=value or key terms, not ${JSON.stringify(term)}`);
    out.push('--filter', m[2] ? `label=${m[1]}=${m[3]}` : `label=${m[1]}`);
  }
  return out;
}

async function podman(args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  try {
    return (await run('podman', args, { env, timeout: 30_000, maxBuffer: 16 * 1024 * 1024 })).stdout;
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') throw new TraceUsageError('--podman: the podman command is not installed');
    throw new TraceUsageError(`podman ${args.join(' ')}: ${(e.stderr ?? e.message).trim().split('\n')[0]}`, 1);
  }
}

/** Pods from the local Podman; `namespace` is stamped on them (Podman has none). */
export function podmanPodSource(env: NodeJS.ProcessEnv = process.env): PodSource {
  return {
    async getPod(namespace, name) {
      const raw = JSON.parse(await podman(['pod', 'inspect', name], env)) as PodmanPod | PodmanPod[];
      const pod = Array.isArray(raw) ? raw[0] : raw;
      if (!pod) throw new TraceUsageError(`no podman pod ${name}`, 1);
      return podInfoFromPodman(pod, namespace);
    },
    async listPods(namespace, selector) {
      const list = JSON.parse(await podman(['pod', 'ps', '--format', 'json', ...labelFilters(selector)], env) || '[]') as PodmanPod[];
      return list.map((p) => podInfoFromPodman(p, namespace)).sort((a, b) => (a.name < b.name ? -1 : 1));
    },
  };
}
