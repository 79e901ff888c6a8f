// KubeArmor → katabot trace. Two outputs are read, told apart per object:
//  - `karmor logs --json` (one event per object, with `Operation` Process|File|Network|Syscall, `Data` such as
//    "syscall=SYS_OPENAT fd=-100 flags=O_RDONLY", `Resource` the command line, path or address, `Result` "Passed"
//    or the error text; container logs, host logs and policy alerts alike; see KubeArmor's
//    getting-started/kubearmor-events.md);
//  - `karmor summary -o json`, below.
// The summary is aggregated by KubeArmor's Discovery Engine: no pids, no timestamps per event, a count per
// (source, destination). Since kubearmor-client 7c5b767 (2023-07) the output is one JSON array of Response
// objects; before that it was Response objects one after another. Response (observability.proto):
//   DeploymentName, PodName, ClusterName, Namespace, Label, ContainerName,
//   ProcessData, FileData: [{Source, Destination, Count, UpdatedTime, Status}]
//   IngressConnection, EgressConnection, BindConnection: [{Protocol, Command, IP, Port, Labels, Namespace, Count,
//     UpdatedTime, BindPort, BindAddress}]
// Older protos used InNwData/OutNwData/BindNwData and ProcName/ParentProcName; both are read.
// Process Source is the parent binary, Destination the child; file Source is the process, Destination the path.
import type { Trace, TraceEvent } from '../format.ts';
import { TraceParseError } from '../format.ts';
import { errnoNumber, openFlagsFromNames } from '../linux.ts';
import {
  assembleTrace, commOf, malformedLines, num, parseJsonDocument, str, timestampNs, type ImportOptions, type Imported,
  type MalformedLines,
} from './common.ts';
import { isObject } from '../json.ts';

type Obj = Record<string, unknown>;

function list(r: Obj, ...keys: string[]): Obj[] {
  for (const k of keys) {
    const v = r[k];
    if (Array.isArray(v)) return v.filter(isObject);
  }
  return [];
}

function proto(p: unknown): 'tcp' | 'udp' | undefined {
  const s = typeof p === 'string' ? p.toUpperCase() : '';
  if (s.startsWith('TCP')) return 'tcp';
  if (s.startsWith('UDP')) return 'udp';
  return undefined;
}

/**
 * Splits concatenated top-level JSON values (`karmor logs --json`, the pre-2023 summary) into documents. Text
 * between values that is not whitespace is malformed up to the end of its line.
 */
function splitConcatenated(text: string, malformed: MalformedLines): Array<{ text: string; offsetLine: number }> {
  const out: Array<{ text: string; offsetLine: number }> = [];
  let depth = 0;
  let inString = false;
  let start = -1;
  let line = 1;
  let startLine = 1;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\n') line++;
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '{' || c === '[') {
      if (depth === 0) { start = i; startLine = line; }
      depth++;
    } else if (c === '}' || c === ']') {
      depth--;
      if (depth === 0 && start >= 0) { out.push({ text: text.slice(start, i + 1), offsetLine: startLine }); start = -1; }
    } else if (depth === 0 && c !== undefined && !/\s/.test(c)) {
      malformed.skip(new TraceParseError(line, `unexpected ${JSON.stringify(c)} between JSON values`));
      const eol = text.indexOf('\n', i);
      i = (eol < 0 ? text.length : eol) - 1;
      depth = 0;
    }
  }
  if (depth > 0) malformed.skip(new TraceParseError(startLine, 'unterminated JSON value'));
  return out;
}

/** The objects of the input: each top-level object, or each element of a top-level array. */
function records(text: string, malformed: MalformedLines): Obj[] {
  const out: Obj[] = [];
  for (const doc of splitConcatenated(text, malformed)) {
    let value: unknown;
    try {
      value = parseJsonDocument(doc.text);
    } catch (err) {
      if (!(err instanceof TraceParseError)) throw err;
      malformed.skip(new TraceParseError(doc.offsetLine + err.line - 1, err.message.replace(/^line \d+: /, '')));
      continue;
    }
    for (const r of Array.isArray(value) ? value : [value]) {
      if (isObject(r)) out.push(r);
      else malformed.skip(new TraceParseError(doc.offsetLine, 'expected a KubeArmor log event or summary Response object'));
    }
  }
  return out;
}

/** Pod, namespace and container of a log event or summary record (they name the namespace key differently). */
function workloadOf(r: Obj, namespaceKey: 'Namespace' | 'NamespaceName'): Pick<TraceEvent, 'pod' | 'namespace' | 'container'> {
  const out: Pick<TraceEvent, 'pod' | 'namespace' | 'container'> = {};
  const pod = str(r['PodName']);
  if (pod) out.pod = pod;
  const namespace = str(r[namespaceKey]);
  if (namespace) out.namespace = namespace;
  const container = str(r['ContainerName']);
  if (container) out.container = container;
  return out;
}

/** `key=value` words, e.g. Data "syscall=SYS_OPENAT fd=-100 flags=O_RDONLY|O_CLOEXEC". */
function keyValues(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const word of text.split(/\s+/)) {
    const eq = word.indexOf('=');
    if (eq > 0) out.set(word.slice(0, eq), word.slice(eq + 1));
  }
  return out;
}

/** KubeArmor's Result is the error's text; the errno names katabot compares, for the texts policies cause. */
const ERROR_NAMES: Readonly<Record<string, string>> = {
  'Permission denied': 'EACCES',
  'Operation not permitted': 'EPERM',
  'No such file or directory': 'ENOENT',
};

/** One `karmor logs --json` event, or undefined for what the trace format has no kind for (unlink, socket, …). */
function logEvent(r: Obj): Imported | undefined {
  const data = keyValues(str(r['Data']) ?? '');
  const call = data.get('syscall') ?? data.get('kprobe')?.toUpperCase() ?? '';
  const resource = str(r['Resource']) ?? '';
  const e: Omit<TraceEvent, 'ts'> = { type: 'event', kind: 'exec', pid: num(r['HostPID']) ?? num(r['PID']) ?? 0 };
  const ppid = num(r['HostPPID']) ?? num(r['PPID']);
  if (ppid !== undefined) e.ppid = ppid;
  const exe = str(r['ProcessName']);
  if (exe) { e.comm = commOf(exe); e.exe = exe; }
  const parent = str(r['ParentProcessName']);
  if (parent) e.parent_exe = parent;
  Object.assign(e, workloadOf(r, 'NamespaceName'));
  const containerId = str(r['ContainerID']);
  if (containerId) e.container_id = containerId;
  const result = str(r['Result']);
  if (result === 'Passed') e.result = 0;
  else if (result) {
    const name = ERROR_NAMES[result];
    e.error = name ?? result;
    e.result = -((name === undefined ? undefined : errnoNumber(name)) ?? 1);
  }
  switch (str(r['Operation'])) {
    case 'Process':
      if (call !== 'SYS_EXECVE' && call !== 'SYS_EXECVEAT') return undefined;
      e.argv = resource === '' ? [] : resource.split(' ');
      break;
    case 'File': {
      if (call !== 'SYS_OPEN' && call !== 'SYS_OPENAT') return undefined;
      e.kind = 'open';
      e.path = resource;
      const flags = data.get('flags');
      if (flags) e.flags = openFlagsFromNames(flags);
      break;
    }
    case 'Network': {
      const kind = call === 'SYS_CONNECT' || call === 'TCP_CONNECT' ? 'connect' : call === 'SYS_ACCEPT' || call === 'SYS_ACCEPT4' || call === 'TCP_ACCEPT' ? 'accept' : call === 'SYS_BIND' ? 'listen' : undefined;
      const address = keyValues(resource);
      const family = address.get('sa_family');
      if (!kind || (family !== undefined && family !== 'AF_INET' && family !== 'AF_INET6')) return undefined;
      e.kind = kind;
      const ip = address.get('sin_addr') ?? address.get('sin6_addr') ?? address.get('remoteip');
      const port = num(address.get('sin_port') ?? address.get('sin6_port') ?? address.get('port'));
      const protocol = address.get('protocol')?.toLowerCase();
      if (protocol === 'tcp' || protocol === 'udp') e.proto = protocol;
      // connect and accept name the peer; bind names the local end.
      if (kind === 'listen') {
        if (ip) e.saddr = ip;
        if (port !== undefined) e.sport = port;
      } else {
        if (ip) e.daddr = ip;
        if (port !== undefined) e.dport = port;
      }
      break;
    }
    default:
      return undefined;
  }
  const seconds = num(r['Timestamp']);
  return { at: timestampNs(str(r['UpdatedTime'])) ?? (seconds === undefined ? undefined : BigInt(seconds) * 1_000_000_000n), event: e };
}

/** The events of one `karmor summary` Response object. */
function summaryEvents(r: Obj, items: Imported[]): void {
  const who = workloadOf(r, 'Namespace');
  const base = (kind: TraceEvent['kind'], d: Obj): Omit<TraceEvent, 'ts'> => {
    const e: Omit<TraceEvent, 'ts'> = { type: 'event', kind, pid: 0, ...who };
    const count = num(d['Count']);
    if (count !== undefined) e.count = count;
    const status = str(d['Status']);
    // Audit and Block are policy verdicts; Block means the operation was denied.
    if (status && status !== 'Allow') e.error = status;
    return e;
  };
  const at = (d: Obj): bigint | undefined => timestampNs(str(d['UpdatedTime']));

  for (const p of list(r, 'ProcessData')) {
    const exe = str(p['Destination']) ?? str(p['ProcName']);
    if (!exe) continue;
    const e = base('exec', p);
    e.comm = commOf(exe);
    e.exe = exe;
    const parent = str(p['Source']) ?? str(p['ParentProcName']);
    if (parent) e.parent_exe = parent;
    items.push({ at: at(p), event: e });
  }
  for (const f of list(r, 'FileData')) {
    const path = str(f['Destination']);
    if (!path) continue;
    const e = base('open', f);
    const exe = str(f['Source']);
    if (exe) { e.comm = commOf(exe); e.exe = exe; }
    e.path = path;
    items.push({ at: at(f), event: e });
  }
  const network = (kind: 'connect' | 'accept' | 'listen', n: Obj): void => {
    const e = base(kind, n);
    const command = str(n['Command']);
    if (command) { e.comm = commOf(command); e.exe = command; }
    const p = proto(n['Protocol']);
    if (p) e.proto = p;
    if (kind === 'listen') {
      const addr = str(n['BindAddress']);
      if (addr) e.saddr = addr;
      const port = num(n['BindPort']) ?? num(n['Port']);
      if (port !== undefined) e.sport = port;
    } else if (kind === 'connect') {
      const ip = str(n['IP']);
      if (ip) e.daddr = ip;
      const port = num(n['Port']);
      if (port !== undefined) e.dport = port;
    } else {
      // Ingress: IP is the peer, Port the pod's own (server) port.
      const ip = str(n['IP']);
      if (ip) e.daddr = ip;
      const port = num(n['Port']);
      if (port !== undefined) e.sport = port;
    }
    items.push({ at: at(n), event: e });
  };
  for (const n of list(r, 'EgressConnection', 'OutNwData')) network('connect', n);
  for (const n of list(r, 'IngressConnection', 'InNwData')) network('accept', n);
  for (const n of list(r, 'BindConnection', 'BindNwData')) network('listen', n);
}

export function importKubeArmor(text: string, opts: ImportOptions = {}): Trace {
  const items: Imported[] = [];
  const malformed = malformedLines(opts);
  let host: string | null = null;
  for (const r of records(text, malformed)) {
    if (typeof r['Operation'] === 'string') {
      host ??= str(r['HostName']) ?? null;
      const item = logEvent(r);
      if (item) items.push(item);
    } else {
      summaryEvents(r, items);
    }
  }
  // Summary records have no time order; their `ts` only says when KubeArmor last saw each record.
  return assembleTrace('kubearmor', items, opts, host, malformed.count);
}
