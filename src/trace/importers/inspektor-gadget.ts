// Inspektor Gadget `trace exec`, `trace open` and `trace tcp` JSON output → katabot trace.
// Two generations are read:
//  - image-based gadgets (`kubectl gadget run trace_exec|trace_open|trace_tcp -o json`, `ig run …`): `proc`
//    {comm, pid, tid, creds{uid,gid}, parent{comm,pid}}, `k8s` {namespace, podName, containerName, …},
//    `runtime` {containerId, containerName, …}, `timestamp`, `error` (errno name or ""), and per gadget
//    exec: args (one string), exepath, cwd; open: fd, flags, fname, fpath; tcp: src/dst {addr, port, version},
//    type connect|accept|close;
//  - built-in gadgets (`kubectl gadget trace exec|open|tcp -o json`): flat pid, ppid, comm, uid, ret, args[],
//    cwd; open: fd, ret, err, flags, path, fullPath; tcp: operation, saddr, daddr, sport, dport; `k8s` {node,
//    namespace, pod, container} or the same at top level; `type` normal|err|warn|debug|info.
import { bareContainerId } from '../cgroup-path.ts';
import type { Trace, TraceEvent } from '../format.ts';
import { decodeOpenFlags, errnoName, errnoNumber, openFlagsFromNames } from '../linux.ts';
import { splitTetragonArguments } from './tetragon.ts';
import { assembleTrace, jsonLines, malformedLines, num, str, timestampNs, type ImportOptions, type Imported } from './common.ts';
import { TraceParseError } from '../format.ts';
import { isObject } from '../json.ts';

export type GadgetKind = 'exec' | 'open' | 'tcp';

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj | undefined => (isObject(v) ? v : undefined);
/** A Kubernetes name; the built-in gadgets write "<>" for "none" (a process outside any pod). */
const k8sName = (v: unknown): string | undefined => {
  const s = str(v);
  return s === '<>' ? undefined : s;
};

/** Which gadget produced an event, from its fields. */
function detectGadget(v: Obj): GadgetKind | undefined {
  // The built-in trace open reports path, flags and mode, and fd only in newer versions.
  if ('fname' in v || 'fpath' in v || 'fullPath' in v || ('path' in v && ('fd' in v || 'flags' in v))) return 'open';
  if (('src' in v && 'dst' in v) || 'operation' in v || ('saddr' in v && 'daddr' in v)) return 'tcp';
  if ('args' in v || 'exepath' in v) return 'exec';
  return undefined;
}

function common(v: Obj): Omit<TraceEvent, 'ts' | 'kind' | 'type'> {
  const proc = obj(v['proc']);
  const parent = obj(proc?.['parent']);
  const k8s = obj(v['k8s']);
  const runtime = obj(v['runtime']);
  const out: Omit<TraceEvent, 'ts' | 'kind' | 'type'> = { pid: num(proc?.['pid']) ?? num(v['pid']) ?? 0 };
  const ppid = num(parent?.['pid']) ?? num(v['ppid']);
  if (ppid !== undefined) out.ppid = ppid;
  const comm = str(proc?.['comm']) ?? str(v['comm']);
  if (comm) out.comm = comm;
  const uid = num(obj(proc?.['creds'])?.['uid']) ?? num(v['uid']);
  if (uid !== undefined) out.uid = uid;
  const containerId = str(runtime?.['containerId']);
  const container = k8sName(k8s?.['containerName']) ?? k8sName(k8s?.['container']) ?? str(runtime?.['containerName']) ?? k8sName(v['container']);
  if (container ?? containerId) out.container = container ?? bareContainerId(containerId!);
  if (containerId) out.container_id = bareContainerId(containerId);
  const pod = k8sName(k8s?.['podName']) ?? k8sName(k8s?.['pod']) ?? k8sName(v['pod']);
  if (pod) out.pod = pod;
  const namespace = k8sName(k8s?.['namespace']) ?? k8sName(v['namespace']);
  if (namespace) out.namespace = namespace;
  return out;
}

/** Negative errno from `error` ("ENOENT", "" on success), `error_raw`, or the old `ret`/`err` fields. */
function errorResult(v: Obj): number | undefined {
  const name = str(v['error']);
  if (name) {
    const n = errnoNumber(name);
    return n === undefined ? -1 : -n;
  }
  const raw = num(v['error_raw']) ?? num(v['err']);
  if (raw !== undefined && raw !== 0) return -Math.abs(raw);
  return undefined;
}

function withError(e: Omit<TraceEvent, 'ts'>, result: number | undefined, v: Obj): void {
  if (result === undefined) return;
  e.result = result;
  if (result < 0) e.error = str(v['error']) ?? errnoName(result);
}

function execEvent(v: Obj): Omit<TraceEvent, 'ts'> {
  const e: Omit<TraceEvent, 'ts'> = { type: 'event', kind: 'exec', ...common(v) };
  const args = v['args'];
  const argv = Array.isArray(args) ? args.map(String) : typeof args === 'string' ? splitTetragonArguments(args) : [];
  const exe = str(v['exepath']) ?? argv[0];
  if (exe) e.exe = exe;
  e.argv = argv;
  const cwd = str(v['cwd']);
  if (cwd) e.cwd = cwd;
  withError(e, errorResult(v) ?? num(v['ret']) ?? 0, v);
  return e;
}

function openEvent(v: Obj): Omit<TraceEvent, 'ts'> | undefined {
  const path = str(v['fpath']) ?? str(v['fullPath']) ?? str(v['fname']) ?? str(v['path']);
  if (!path) return undefined;
  const e: Omit<TraceEvent, 'ts'> = { type: 'event', kind: 'open', ...common(v), path };
  const flags = v['flags'] ?? v['flagsRaw'] ?? v['flags_raw'];
  if (typeof flags === 'string') e.flags = openFlagsFromNames(flags);
  else if (Array.isArray(flags)) e.flags = openFlagsFromNames(flags.map(String).join('|'));
  else if (typeof flags === 'number') e.flags = decodeOpenFlags(flags);
  const err = errorResult(v);
  withError(e, err ?? num(v['fd']) ?? num(v['ret']), v);
  return e;
}

function endpoint(v: Obj, side: 'src' | 'dst'): { addr?: string; port?: number } {
  const ep = obj(v[side]);
  if (ep) {
    const out: { addr?: string; port?: number } = {};
    const addr = str(ep['addr']);
    if (addr) out.addr = addr;
    const port = num(ep['port']);
    if (port !== undefined) out.port = port;
    return out;
  }
  const prefix = side === 'src' ? 's' : 'd';
  const out: { addr?: string; port?: number } = {};
  const addr = str(v[`${prefix}addr`]);
  if (addr) out.addr = addr;
  const port = num(v[`${prefix}port`]);
  if (port !== undefined) out.port = port;
  return out;
}

function tcpEvent(v: Obj): Omit<TraceEvent, 'ts'> | undefined {
  const op = str(v['operation']) ?? str(v['type']);
  if (op !== 'connect' && op !== 'accept') return undefined; // close: not part of the trace format
  const e: Omit<TraceEvent, 'ts'> = { type: 'event', kind: op, ...common(v), proto: 'tcp' };
  // Both generations report from the socket's side: src is local, dst the peer.
  const src = endpoint(v, 'src');
  const dst = endpoint(v, 'dst');
  if (src.addr) e.saddr = src.addr;
  if (src.port !== undefined) e.sport = src.port;
  if (dst.addr) e.daddr = dst.addr;
  if (dst.port !== undefined) e.dport = dst.port;
  const err = errorResult(v);
  if (err !== undefined) withError(e, err, v);
  return e;
}

const LOG_TYPES = new Set(['err', 'warn', 'debug', 'info']);

export function importInspektorGadget(text: string, opts: ImportOptions & { gadget?: GadgetKind } = {}): Trace {
  const items: Imported[] = [];
  const malformed = malformedLines(opts);
  let host: string | null = null;
  for (const { line, value } of jsonLines(text, malformed)) {
    if (LOG_TYPES.has(str(value['type']) ?? '')) continue; // the gadget's own log messages
    const kind = opts.gadget ?? detectGadget(value);
    if (!kind) {
      malformed.skip(new TraceParseError(line, 'not an Inspektor Gadget trace exec/open/tcp event'));
      continue;
    }
    host ??= str(obj(value['k8s'])?.['node']) ?? str(value['node']) ?? null;
    const event = kind === 'exec' ? execEvent(value) : kind === 'open' ? openEvent(value) : tcpEvent(value);
    if (event) items.push({ at: timestampNs(value['timestamp']) ?? timestampNs(value['timestamp_raw']), event });
  }
  return assembleTrace('inspektor-gadget', items, opts, host, malformed.count);
}
