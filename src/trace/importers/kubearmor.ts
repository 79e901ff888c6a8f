// KubeArmor `karmor summary -o json` → katabot trace.
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
import { assembleTrace, commOf, isObject, num, parseJsonDocument, str, timestampNs, type ImportOptions, type Imported } from './common.ts';

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

/** Splits concatenated top-level JSON values (the pre-2023 output) into documents. */
function splitConcatenated(text: string): Array<{ text: string; offsetLine: number }> {
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
      throw new TraceParseError(line, `unexpected ${JSON.stringify(c)} between JSON values`);
    }
  }
  if (depth !== 0) throw new TraceParseError(startLine, 'unterminated JSON value');
  return out;
}

function responses(text: string): Obj[] {
  const out: Obj[] = [];
  for (const doc of splitConcatenated(text)) {
    let value: unknown;
    try {
      value = parseJsonDocument(doc.text);
    } catch (err) {
      if (err instanceof TraceParseError) throw new TraceParseError(doc.offsetLine + err.line - 1, err.message.replace(/^line \d+: /, ''));
      throw err;
    }
    for (const r of Array.isArray(value) ? value : [value]) {
      if (!isObject(r)) throw new TraceParseError(doc.offsetLine, 'expected a karmor summary Response object');
      out.push(r);
    }
  }
  return out;
}

export function importKubeArmorSummary(text: string, opts: ImportOptions = {}): Trace {
  const items: Imported[] = [];
  for (const r of responses(text)) {
    const who: Partial<TraceEvent> = {};
    const pod = str(r['PodName']);
    if (pod) who.pod = pod;
    const namespace = str(r['Namespace']);
    if (namespace) who.namespace = namespace;
    const container = str(r['ContainerName']);
    if (container) who.container = container;
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
  const trace = assembleTrace('kubearmor', items, opts, null);
  // Aggregated data has no time order; `ts` only says when KubeArmor last saw each record.
  return trace;
}
