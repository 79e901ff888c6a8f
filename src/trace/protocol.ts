// The record protocol between katabot's generated bpftrace program and the agent.
// Each probe prints `TAG\x1ffield\x1ffield...` with printf; bpftrace wraps it in a JSON printf record.
// Numbers come first and free text last, so a path that contains the separator stays whole.
// The generator (src/bpf/builtin.ts) and the parser below both read RECORD_FIELDS, so they cannot drift.
// `img` is the process image: the thread group leader's self_exec_id, bumped by each exec and inherited by fork,
// so (pid, img) names one program run even when records of one process arrive out of order.

export const FIELD_SEPARATOR = '\x1f';

export const RECORD_FIELDS = {
  /** exec entry, printed after its N and A records: comm is the caller's. argc is the number of A records, plus
   * one when argv had more elements than the program copies. */
  E: ['ts', 'tid', 'pid', 'ppid', 'uid', 'cgid', 'argc', 'comm'],
  /** the exec's filename as passed to execve; a record of its own to keep the probe under the 512-byte BPF stack. */
  N: ['tid', 'filename'],
  /** one argv element of the exec entry on the same thread. */
  A: ['tid', 'index', 'arg'],
  /** exec return: ret 0 on success (comm and img are then the new program's), -errno on failure. */
  R: ['ts', 'tid', 'pid', 'img', 'ret', 'comm'],
  /** process exit (main thread): code is the kernel wait status. */
  X: ['ts', 'pid', 'ppid', 'uid', 'cgid', 'code', 'comm'],
  /** open/openat/openat2, printed at return: the path is read then through the pointer saved at entry, because at
   * entry its page may not be resident yet (the kernel faults it in while copying) and the read would fail.
   * `key` is 0, or the id under which the kernel counts the later opens that are the same as this one (END
   * prints the counts in @rep). */
  O: ['ts', 'pid', 'ppid', 'uid', 'cgid', 'img', 'key', 'flags', 'ret', 'comm', 'path'],
  /** TCP connect (CLOSE → SYN_SENT), in the caller's context; `key` as for O. */
  C: ['ts', 'pid', 'ppid', 'uid', 'cgid', 'img', 'key', 'sk', 'family', 'dport', 'saddr', 'daddr', 'comm'],
  /** outcome of a connect seen above (SYN_SENT → ESTABLISHED or CLOSE); runs in softirq, so no pid. */
  S: ['ts', 'sk', 'newstate', 'sport'],
  /** TCP listen (CLOSE → LISTEN). */
  L: ['ts', 'pid', 'ppid', 'uid', 'cgid', 'family', 'sport', 'saddr', 'comm'],
  /** accept/accept4 return: s* is the local end, d* the peer. */
  K: ['ts', 'pid', 'ppid', 'uid', 'cgid', 'family', 'sport', 'dport', 'saddr', 'daddr', 'comm'],
  /** a datagram or stream write to port 53; a0..a3 are the destination address as raw 32-bit words in memory
   * order (IPv4 uses a0); payload is the start of the message, `%r`-escaped. */
  D: ['ts', 'pid', 'ppid', 'uid', 'cgid', 'family', 'proto', 'dport', 'len', 'a0', 'a1', 'a2', 'a3', 'comm', 'payload'],
  /** fork of a new process or thread: the child inherits the parent's executable (and its image, img). */
  F: ['ts', 'pid', 'img', 'child'],
  /** flush marker the agent triggers to know the stream has caught up. */
  M: ['ts', 'marker'],
  /** printed once from BEGIN: the tracer's own cgroup and its parent (the pod, in sidecar mode). */
  B: ['selfcg', 'selflevel', 'parentcg'],
} as const;

export type RecordTag = keyof typeof RECORD_FIELDS;

/** Set in the key id of a connect (O and C records' `key`, @rep at END): counts say their kind even when the
 * record that named the id was lost. */
export const CONNECT_KEY_BIT = 1n << 62n;

export type ExecEntryRecord = { tag: 'E'; ts: bigint; tid: number; pid: number; ppid: number; uid: number; cgid: string; argc: number; comm: string };
type ExecFilenameRecord = { tag: 'N'; tid: number; filename: string };
type ExecArgRecord = { tag: 'A'; tid: number; index: number; arg: string };
export type ExecReturnRecord = { tag: 'R'; ts: bigint; tid: number; pid: number; img: string; ret: number; comm: string };
type ExitRecord = { tag: 'X'; ts: bigint; pid: number; ppid: number; uid: number; cgid: string; code: number; comm: string };
type OpenRecord = {
  tag: 'O'; ts: bigint; pid: number; ppid: number; uid: number; cgid: string; img: string; key: string; flags: number; ret: number; comm: string; path: string;
};
type ConnectRecord = {
  tag: 'C'; ts: bigint; pid: number; ppid: number; uid: number; cgid: string; img: string; key: string; sk: string; family: number; dport: number;
  saddr: string; daddr: string; comm: string;
};
type StateRecord = { tag: 'S'; ts: bigint; sk: string; newstate: number; sport: number };
type ListenRecord = { tag: 'L'; ts: bigint; pid: number; ppid: number; uid: number; cgid: string; family: number; sport: number; saddr: string; comm: string };
type AcceptRecord = { tag: 'K'; ts: bigint; pid: number; ppid: number; uid: number; cgid: string; family: number; sport: number; dport: number; saddr: string; daddr: string; comm: string };
type DnsRecord = {
  tag: 'D'; ts: bigint; pid: number; ppid: number; uid: number; cgid: string; family: number; proto: number; dport: number;
  len: number; a0: number; a1: number; a2: number; a3: number; comm: string; payload: string;
};
type ForkRecord = { tag: 'F'; ts: bigint; pid: number; img: string; child: number };
type MarkerRecord = { tag: 'M'; ts: bigint; marker: number };
export type BeginRecord = { tag: 'B'; selfcg: string; selflevel: number; parentcg: string };

export type ProtocolRecord =
  | ExecEntryRecord | ExecFilenameRecord | ExecArgRecord | ExecReturnRecord | ExitRecord | OpenRecord | ConnectRecord | StateRecord
  | ListenRecord | AcceptRecord | DnsRecord | ForkRecord | MarkerRecord | BeginRecord;

/** Fields kept as strings: u64 ids and kernel pointers do not fit a double. */
const STRING_FIELDS = new Set(['comm', 'filename', 'arg', 'path', 'saddr', 'daddr', 'payload', 'sk', 'cgid', 'selfcg', 'parentcg', 'img', 'key']);
const BIGINT_FIELDS = new Set(['ts']);

/** Parses one printf text into a typed record; returns a reason string when the text is not katabot's. */
export function parseProtocolRecord(text: string): ProtocolRecord | string {
  const parts = text.split(FIELD_SEPARATOR);
  const tag = parts[0] as RecordTag;
  const names = (RECORD_FIELDS as Record<string, readonly string[]>)[tag];
  if (!names) return `unknown record tag ${JSON.stringify(parts[0]?.slice(0, 20))}`;
  const values = parts.slice(1);
  if (values.length < names.length) return `record ${tag} has ${values.length} fields, expected ${names.length}`;
  if (values.length > names.length) {
    // The last field is free text and contained the separator itself.
    values.splice(names.length - 1, values.length, values.slice(names.length - 1).join(FIELD_SEPARATOR));
  }
  const record: Record<string, unknown> = { tag };
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    const raw = values[i]!;
    if (STRING_FIELDS.has(name)) {
      record[name] = raw;
    } else if (BIGINT_FIELDS.has(name)) {
      if (!/^\d+$/.test(raw)) return `record ${tag} field ${name} is not an unsigned integer: ${JSON.stringify(raw)}`;
      record[name] = BigInt(raw);
    } else {
      if (!/^-?\d+$/.test(raw)) return `record ${tag} field ${name} is not an integer: ${JSON.stringify(raw)}`;
      record[name] = Number(raw);
    }
  }
  return record as unknown as ProtocolRecord;
}
