// Tetragon JSON export (`tetra getevents -o json`, or the export file of the agent) → katabot trace.
// Each line is one GetEventsResponse in protobuf JSON with snake_case names: exactly one of process_exec,
// process_exit, process_kprobe, ... plus node_name and time (api/v1/tetragon/events.proto).
// Network and file events come from TracingPolicies (kprobes): tcp_connect / inet_csk_listen_start /
// inet_csk_accept with a sock_arg, and fd_install / security_file_open / security_file_permission with a file_arg.
import { bareContainerId } from '../cgroup-path.ts';
import type { Trace, TraceEvent } from '../format.ts';
import { signalNumber, type OpenFlag } from '../linux.ts';
import {
  assembleTrace, commOf, jsonLines, malformedLines, num, str, timestampNs, type ImportOptions, type Imported,
} from './common.ts';
import { isObject } from '../json.ts';

type Obj = Record<string, unknown>;

function obj(value: unknown): Obj | undefined {
  return isObject(value) ? value : undefined;
}

/** Tetragon's `arguments` is one string; quoted words (with spaces) are kept together. */
export function splitTetragonArguments(args: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g;
  for (const m of args.matchAll(re)) out.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2] ?? m[3]!);
  return out;
}

/** Fields every event takes from a Tetragon Process and its pod. */
function processFields(process: Obj | undefined, parent: Obj | undefined): Omit<TraceEvent, 'ts' | 'kind' | 'type'> {
  const binary = str(process?.['binary']);
  const base: Omit<TraceEvent, 'ts' | 'kind' | 'type'> = { pid: num(process?.['pid']) ?? 0 };
  const ppid = num(parent?.['pid']);
  if (ppid !== undefined) base.ppid = ppid;
  if (binary) {
    base.comm = commOf(binary);
    base.exe = binary;
  }
  const uid = num(process?.['uid']);
  if (uid !== undefined) base.uid = uid;
  const cwd = str(process?.['cwd']);
  if (cwd) base.cwd = cwd;
  const pod = obj(process?.['pod']);
  const container = obj(pod?.['container']);
  const containerId = str(container?.['id']) ?? str(process?.['docker']);
  const containerName = str(container?.['name']);
  if (containerName ?? containerId) base.container = containerName ?? bareContainerId(containerId!);
  if (containerId) base.container_id = bareContainerId(containerId);
  const podName = str(pod?.['name']);
  if (podName) base.pod = podName;
  const namespace = str(pod?.['namespace']);
  if (namespace) base.namespace = namespace;
  return base;
}

function familyOf(value: unknown): 'v4' | 'v6' | undefined {
  if (value === 'AF_INET' || value === 2) return 'v4';
  if (value === 'AF_INET6' || value === 10) return 'v6';
  return undefined;
}

const FILE_FUNCTIONS = new Set(['fd_install', 'security_file_open', 'security_file_permission', 'security_mmap_file', 'do_sys_open', 'do_sys_openat2']);

function kprobeEvent(k: Obj): Omit<TraceEvent, 'ts' | 'type'> | undefined {
  const fn = str(k['function_name']) ?? '';
  const args = Array.isArray(k['args']) ? k['args'].filter(isObject) : [];
  const base = processFields(obj(k['process']), obj(k['parent']));
  const sock = args.map((a) => obj(a['sock_arg'])).find((s) => s !== undefined) ?? obj(obj(k['return'])?.['sock_arg']);
  if (sock && (fn === 'tcp_connect' || fn === 'inet_csk_listen_start' || fn === 'inet_csk_accept')) {
    if (!familyOf(sock['family'])) return undefined;
    const proto = sock['protocol'] === 'IPPROTO_UDP' ? 'udp' : 'tcp';
    const e: Omit<TraceEvent, 'ts' | 'type'> = { ...base, kind: fn === 'tcp_connect' ? 'connect' : fn === 'inet_csk_listen_start' ? 'listen' : 'accept', proto };
    const saddr = str(sock['saddr']);
    const daddr = str(sock['daddr']);
    if (saddr) e.saddr = saddr;
    const sport = num(sock['sport']);
    if (sport !== undefined) e.sport = sport;
    if (e.kind !== 'listen') {
      if (daddr) e.daddr = daddr;
      const dport = num(sock['dport']);
      if (dport !== undefined) e.dport = dport;
    }
    return e;
  }
  const file = args.map((a) => obj(a['file_arg']) ?? obj(a['path_arg'])).find((f) => f !== undefined);
  if (file && FILE_FUNCTIONS.has(fn)) {
    const path = str(file['path']);
    if (!path) return undefined;
    const permission = str(file['permission']) ?? '';
    const flags: OpenFlag[] = [];
    if (permission.includes('r')) flags.push('read');
    if (permission.includes('w')) flags.push('write');
    const e: Omit<TraceEvent, 'ts' | 'type'> = { ...base, kind: 'open', path };
    if (flags.length > 0) e.flags = flags;
    return e;
  }
  return undefined;
}

export function importTetragon(text: string, opts: ImportOptions = {}): Trace {
  const items: Imported[] = [];
  const malformed = malformedLines(opts);
  let host: string | null = null;
  for (const { value } of jsonLines(text, malformed)) {
    host ??= str(value['node_name']) ?? null;
    const at = timestampNs(value['time']);
    const exec = obj(value['process_exec']);
    const exit = obj(value['process_exit']);
    const kprobe = obj(value['process_kprobe']);
    if (exec) {
      const process = obj(exec['process']);
      const flags = str(process?.['flags']) ?? '';
      // procFS events describe processes that existed when Tetragon started; they are not execs.
      if (flags.split(/\s+/).includes('procFS')) continue;
      const event: Omit<TraceEvent, 'ts'> = { type: 'event', kind: 'exec', ...processFields(process, obj(exec['parent'])) };
      const parentBinary = str(obj(exec['parent'])?.['binary']);
      if (parentBinary) event.parent_exe = parentBinary;
      const binary = str(process?.['binary']);
      event.argv = [binary ?? '', ...splitTetragonArguments(str(process?.['arguments']) ?? '')];
      event.result = 0; // Tetragon reports successful execs only
      if (/\btrunc(Filename|Args)\b/.test(flags)) event.truncated = true;
      items.push({ at: at ?? timestampNs(process?.['start_time']), event });
    } else if (exit) {
      const event: Omit<TraceEvent, 'ts'> = { type: 'event', kind: 'exit', ...processFields(obj(exit['process']), obj(exit['parent'])) };
      const signal = str(exit['signal']);
      const status = num(exit['status']) ?? 0;
      if (signal) {
        event.signal = signal;
        event.result = 128 + (signalNumber(signal) ?? 0);
      } else {
        event.result = status;
      }
      items.push({ at: at ?? timestampNs(exit['time']), event });
    } else if (kprobe) {
      const e = kprobeEvent(kprobe);
      if (e) items.push({ at, event: { type: 'event', ...e } });
    }
    // process_loader, process_throttle, process_lsm, ... carry nothing katabot compares.
  }
  return assembleTrace('tetragon', items, opts, host, malformed.count);
}
