// The built-in packages `exec`, `files`, `tcp` and `dns`: katabot's own tracer program (bpftrace v0.17 syntax),
// as packages. Pure: no I/O. Only tracepoints are used, so it runs where kprobes cannot.
// Every probe prints records of the protocol in src/trace/protocol.ts and counts them in @sent, so the agent can
// tell records the kernel produced from records it received (lost events "from gaps"). Each built-in package
// contributes the probes of its trace kinds; generateProgram joins the packages asked for into one program with
// one scope filter, one BEGIN and one END.
import { EVENT_KINDS, type EventKind } from '../trace/format.ts';
import { CONNECT_KEY_BIT, RECORD_FIELDS, type RecordTag } from '../trace/protocol.ts';
import { DEFAULT_MIN_BPFTRACE, type BpfPackage, type EventSpec, type PackageMeta } from './package.ts';

/** Which cgroups are traced. The filter runs in the kernel on the event's own cgroup. */
export type TraceScope =
  /** These cgroups and everything below them (command mode; node agent for given pods), but the `exclude` ones
   * (host mode: the tracer's own cgroup, or it would trace itself). Host mode traces the whole machine as the
   * subtree of the root cgroup: bpftrace v0.17 cannot fit the DNS probes' stack with a filter on `all`. */
  | { kind: 'cgroups'; targets: bigint[]; exclude?: bigint[] }
  /** The pod the tracer runs in (sidecar): its own cgroup's parent, minus its own cgroup. */
  | { kind: 'own-pod' }
  /** Everything on the machine (a node-wide instance of a package). */
  | { kind: 'all' }
  /** Everything but the tracer's own cgroup (a tracer inside a Kata guest: the guest is the pod). */
  | { kind: 'all-but-self' };

export interface ProgramOptions {
  scope: TraceScope;
  /** pid of the agent: it triggers the flush marker with kill(MARKER_BASE + n, 0). */
  agentPid: number;
  /** BPFTRACE_STRLEN the program runs with (v0.17 allows up to 200). */
  strlen: number;
  /** argv elements copied per exec. */
  maxArgs: number;
  /** bytes of a DNS message copied (the question sits at the start). */
  dnsBytes: number;
  /** kernfs_node's parent field: `__parent` since Linux 6.15, `parent` before. */
  kernfsParentField: '__parent' | 'parent';
  /** How many levels below a target cgroup are still matched. */
  maxCgroupDepth: number;
  /** Count repeated opens and connects in the kernel instead of printing each one (below). */
  aggregate: boolean;
  /** BPFTRACE_MAP_KEYS_MAX the program runs with: every map holds at most this many keys. */
  mapKeys: number;
  kinds?: readonly EventKind[];
}

/** Pids above the kernel's pid_max limit (2^22), so kill() fails fast with ESRCH and hits no process. */
export const MARKER_BASE = 4194304;

export const DEFAULT_PROGRAM_OPTIONS = {
  strlen: 200,
  maxArgs: 32,
  dnsBytes: 128,
  kernfsParentField: '__parent',
  maxCgroupDepth: 8,
  aggregate: true,
  mapKeys: 16384,
} as const satisfies Partial<ProgramOptions>;

const S = '\\x1f'; // field separator, as a bpftrace string escape

const FORMATS: Record<string, string> = {
  ts: '%llu', cgid: '%llu', sk: '%llu', selfcg: '%llu', parentcg: '%llu', a0: '%u', a1: '%u', a2: '%u', a3: '%u', img: '%llu', key: '%llu',
};
const STRING_NAMES = new Set(['comm', 'filename', 'arg', 'path', 'saddr', 'daddr']);

/** printf for one record tag; `values` follow RECORD_FIELDS order. */
function emit(tag: RecordTag, values: string[], indent = '    '): string {
  const names = RECORD_FIELDS[tag];
  if (names.length !== values.length) throw new Error(`record ${tag}: ${values.length} values for ${names.length} fields`);
  const specs = names.map((n) => (n === 'payload' ? '%r' : STRING_NAMES.has(n) ? '%s' : FORMATS[n] ?? '%d'));
  const format = [tag, ...specs].join(S) + '\\n';
  // Keyed by the tag's character code: string keys cost BPF stack in v0.17.
  return `${indent}printf("${format}", ${values.join(', ')});\n${indent}@sent[${tag.charCodeAt(0)}] = sum(1);\n`;
}

const COMMON = ['nsecs', 'pid', '$ppid', 'uid', 'cgroup'];

/** Sets `$in` to 1 when the current task's cgroup is a traced cgroup or lies below one. The walk compares
 * ancestors' ids rather than levels, so it also works when the agent sits in a cgroup namespace. */
function filterCode(o: ProgramOptions): string {
  const walk = (match: (id: string) => string): string => `
    $kn = (struct kernfs_node *)((struct cgroup *)curtask->cgroups->dfl_cgrp)->kn;
    unroll(${o.maxCgroupDepth}) {
      if ($in == 0 && $kn != 0) {
        $kn = (struct kernfs_node *)$kn->${o.kernfsParentField};
        if ($kn != 0) { if (${match('$kn->id')}) { $in = 1; } }
      }
    }`;
  let code = '  $in = 0;\n';
  if (o.scope.kind === 'all') {
    code = '  $in = 1;\n';
  } else if (o.scope.kind === 'all-but-self') {
    code += '  if (cgroup != @self_cg) { $in = 1; }\n';
  } else if (o.scope.kind === 'own-pod') {
    // the tracer's own container is left out, or it would trace itself
    code += `  if (cgroup != @self_cg) {
    $pod = @pod_cg;${walk((id) => `${id} == $pod`)}
  }\n`;
  } else {
    const ids = o.scope.targets;
    if (ids.length === 0) throw new Error('no cgroup to trace');
    const any = (expr: string): string => ids.map((id) => `${expr} == ${id}`).join(' || ');
    code += `  if (${any('cgroup')}) { $in = 1; }
  if ($in == 0) {${walk(any)}
  }\n`;
  }
  if (o.scope.kind === 'cgroups' && o.scope.exclude && o.scope.exclude.length > 0) {
    code += `  if (${o.scope.exclude.map((id) => `cgroup == ${id}`).join(' || ')}) { $in = 0; }\n`;
  }
  code += '  $ppid = curtask->real_parent->tgid;\n';
  return code;
}

function sockFromFd(fdExpr: string): string {
  return `    $files = (struct files_struct *)curtask->files;
    $fdt = (struct fdtable *)$files->fdt;
    $file = (struct file *)*($fdt->fd + ${fdExpr});
    $sock = (struct socket *)$file->private_data;
    $sk = (struct sock *)$sock->sk;
    $family = $sk->__sk_common.skc_family;
`;
}

function execProbes(o: ProgramOptions, f: string, kinds: ReadonlySet<EventKind>): string {
  const names = namesExe(o, kinds);
  return `
tracepoint:syscalls:sys_enter_execve, tracepoint:syscalls:sys_enter_execveat {
${f}  if ($in) {
${emit('N', ['tid', 'str(args->filename)'])}    $i = 0;
    while ($i < ${o.maxArgs}) {
      $p = *(args->argv + $i);
      if ($p == 0) { break; }
${emit('A', ['tid', '$i', 'str($p)'], '      ')}      $i++;
    }
    // one more than copied says the argv was longer than the limit
    if ($i == ${o.maxArgs}) { if (*(args->argv + ${o.maxArgs}) != 0) { $i++; } }
${emit('E', ['nsecs', 'tid', 'pid', '$ppid', 'uid', 'cgroup', '$i', 'comm'])}  }
}

${names ? exeIdProbe(f) : ''}
tracepoint:syscalls:sys_exit_execve, tracepoint:syscalls:sys_exit_execveat {
${f}  if ($in) {
${emit('R', ['nsecs', 'tid', 'pid', IMAGE, 'args->ret', 'comm'])}${names ? `    if (args->ret == 0) {
      delete(@pexe[pid]);
      $e = @exec_pending[pid];
      if ($e != 0) { @pexe[pid] = $e; }
    }
    delete(@exec_pending[pid]);
` : ''}  }
}

tracepoint:sched:sched_process_fork {
${f}  if ($in) {
${emit('F', ['nsecs', 'pid', IMAGE, 'args->child_pid'])}${names ? `    $e = @pexe[pid];
    if ($e != 0) { @pexe[args->child_pid] = $e; }
` : ''}  }
}
`;
}

/** Whether aggregation keys name the executable: the exec kind is traced, so the agent knows executables too. */
function namesExe(o: ProgramOptions, kinds: ReadonlySet<EventKind>): boolean {
  return aggregates(o, kinds) && kinds.has('exec');
}

/**
 * The executable's id, for aggregation keys: one id per filename execve was given (the agent's `exe`), kept per
 * process in @pexe from a successful exec, inherited by fork. A probe of its own: the exec probe has no stack left
 * for a 200-byte key. When a map is full the process has no id and its opens and connects are printed one by one.
 */
function exeIdProbe(f: string): string {
  return `
tracepoint:syscalls:sys_enter_execve, tracepoint:syscalls:sys_enter_execveat {
${f}  if ($in) {
    $x = @exeid[str(args->filename)];
    if ($x == 0) {
      @eseq[cpu] = @eseq[cpu] + 1;
      $x = (@eseq[cpu] << 12) | cpu;
      @exeid[str(args->filename)] = $x;
      // another CPU may have named it first; 0 when the map is full
      $x = @exeid[str(args->filename)];
    }
    @exec_pending[pid] = $x;
  }
}
`;
}

function exitProbe(f: string): string {
  return `
tracepoint:sched:sched_process_exit {
${f}  if ($in && pid == tid) {
${emit('X', [...COMMON.slice(0, 4), 'cgroup', 'curtask->exit_code', 'comm'])}  }
}
`;
}

// Open flags are saved with bit 62 set, so O_RDONLY (0) still marks "entry seen".
const OPEN_SEEN = '0x4000000000000000';

/** The process image: the thread group leader's self_exec_id, bumped by every exec and inherited by fork. */
const IMAGE = 'curtask->group_leader->self_exec_id';

/** The leading fields of an aggregation key: the executable's id (or 0 when the exec kind is not traced: then the
 * agent knows no executable either), uid and cgroup. Not the process: the profile keys by executable, so the
 * same open by a thousand runs of one program is one key. */
function whoKey(o: ProgramOptions, kinds: ReadonlySet<EventKind>): string {
  return `${namesExe(o, kinds) ? '@pexe[pid]' : '0'}, uid, cgroup`;
}

/** Only processes with an executable id aggregate (when ids are kept): one without is printed one by one. */
function hasExeKey(o: ProgramOptions, kinds: ReadonlySet<EventKind>): string {
  return namesExe(o, kinds) ? '@pexe[pid] != 0' : '1';
}

// In-kernel aggregation. The profile keys files by (executable, path, access) and network by (executable,
// destination), so an open or connect that repeats one already printed needs no record of its own, only a count.
// The key is what the profile reads from the record: executable (exec filename), uid, cgroup and comm, plus the
// open's flags and path, or the connect's family, addresses and port and its process's last DNS query (after a new
// lookup a connect may be named differently, so it is printed). The first occurrence is printed (key 0) and
// remembered in a seen-once filter (@oseen, @cseen: cleared when they fill); the second is printed with a fresh id
// and kept in @opromo/@cpromo; later ones only count, in @rep[id, class] (opens: class = the result, 0 or -errno;
// connects: 0 all, 1 established, 2 refused or timed out), which END prints. @nrep bounds what those maps may
// hold below the map size: past it, occurrences are printed one by one as without aggregation, so counts stay
// exact. Opens decide at entry, where the probe has the stack for the 200-byte path in a key, and only when the
// path could be read there (at entry its page may not be resident yet).
const AGG_SLACK = 1024;

function repBudget(o: ProgramOptions): number {
  return o.mapKeys - AGG_SLACK;
}

/** A new id for a key seen again (unique: a per-CPU sequence and the CPU; `tag` marks the kind), if @nrep has room
 * for `weight` more entries; `then` runs with it in `$key`. */
function promote(weight: number, tag: bigint, then: string, o: ProgramOptions, i: string): string {
  return `${i}if (@nrep < ${repBudget(o)}) {
${i}  @seq[cpu] = @seq[cpu] + 1;
${i}  $key = (uint64)((@seq[cpu] << 12) | cpu${tag ? ` | ${tag}` : ''});
${then.replace(/^/gm, `${i}  `)}
${i}  @nrep = @nrep + ${weight};
${i}}
`;
}

/** Runs `first` when `k` is not in the seen-once filter (and adds it), `again` when it is. */
function seenOnce(seen: string, k: string, again: string, o: ProgramOptions, i: string): string {
  return `${i}if (${seen}[${k}] == 0) {
${i}  ${seen}[${k}] = 1;
${i}  @nseen = @nseen + 1;
${i}} else {
${again}${i}}
`;
}

function openProbes(o: ProgramOptions, f: string, kinds: ReadonlySet<EventKind>): string {
  const key = `${whoKey(o, kinds)}, $fl, comm, str(args->filename)`;
  // A path that could not be read is all zeros: such a key is never promoted (checked below), so the lookup that
  // comes first cannot find one; it saves the check's read on the path that matters, the counted repeat.
  const decide = `    if (${hasExeKey(o, kinds)}) {
      $p = @opromo[${key}];
      if ($p != 0) {
        @open_agg[tid] = $p;
      } else {
        if (strncmp(str(args->filename), "", 1) != 0) {
${seenOnce('@oseen', key, promote(1, 0n, `@opromo[${key}] = $key;
@open_promo[tid] = $key;`, o, '            '), o, '          ')}        }
      }
    }
`;
  const entry = (flags: string): string => `${f}  if ($in) {
    @open_path[tid] = (uint64)args->filename;
    $fl = ${flags};
    @open_flags[tid] = $fl | ${OPEN_SEEN};
${o.aggregate ? decide : ''}  }
`;
  const record = (k: string, indent: string): string => emit('O', [...COMMON, IMAGE, k, '$flags & ~' + OPEN_SEEN, 'args->ret', 'comm', 'str(@open_path[tid])'], indent);
  // a counted repeat: one more in its result's class, when that class has room, else it is printed after all
  const count = `    $key = @open_agg[tid];
    if ($key != 0) {
      $res = args->ret;
      if ($res > 0) { $res = 0; }
      if (@rclass[$key, $res] == 0) {
        if (@nrep < ${repBudget(o)}) {
          @rclass[$key, $res] = 1;
          @nrep = @nrep + 1;
        } else {
          $key = 0;
        }
      }
      if ($key != 0) { @rep[$key, $res] = count(); }
      delete(@open_agg[tid]);
    }
    if ($key == 0) {
      $ppid = curtask->real_parent->tgid;
${record('@open_promo[tid]', '      ')}      delete(@open_promo[tid]);
    }
`;
  return `
tracepoint:syscalls:sys_enter_openat, tracepoint:syscalls:sys_enter_open {
${entry('(uint64)args->flags')}}

tracepoint:syscalls:sys_enter_openat2 {
${entry('*(uint64 *)uptr(args->how)')}}

tracepoint:syscalls:sys_exit_openat, tracepoint:syscalls:sys_exit_open, tracepoint:syscalls:sys_exit_openat2 {
  $flags = @open_flags[tid];
  if ($flags != 0) {
${o.aggregate ? count : `    $ppid = curtask->real_parent->tgid;
${record('0', '    ')}`}    delete(@open_flags[tid]);
    delete(@open_path[tid]);
  }
}
`;
}

function tcpStateProbe(o: ProgramOptions, f: string, kinds: ReadonlySet<EventKind>): string {
  const connect = kinds.has('connect');
  const listen = kinds.has('listen');
  let body = '';
  if (connect) {
    const record = (v: '' | '_v6', key: string, indent: string): string => emit('C', [
      ...COMMON, IMAGE, key, '(uint64)args->skaddr', 'args->family', 'args->dport', `ntop(args->saddr${v})`, `ntop(args->daddr${v})`, 'comm',
    ], indent);
    // a connect after a new DNS query of its process is a new key: the profile may name it differently
    const lastDns = kinds.has('dns') ? '@dnslast[pid]' : '0';
    const family = (v: '' | '_v6', i: string): string => {
      if (!o.aggregate) return `${i}@syn[args->skaddr] = 1;\n${record(v, '0', i)}`;
      const key = `${whoKey(o, kinds)}, ${lastDns}, args->family, args->dport, ntop(args->daddr${v}), ntop(args->saddr${v}), comm`;
      return `${i}$key = (uint64)0;
${i}$counted = 0;
${i}if (${hasExeKey(o, kinds)}) {
${i}  $p = @cpromo[${key}];
${i}  if ($p != 0) {
${i}    @rep[$p, 0] = count();
${i}    @synrep[args->skaddr] = $p;
${i}    $counted = 1;
${i}  } else {
${seenOnce('@cseen', key, promote(3, CONNECT_KEY_BIT, `@cpromo[${key}] = $key;`, o, `${i}      `), o, `${i}    `)}${i}  }
${i}}
${i}if ($counted == 0) {
${i}  @syn[args->skaddr] = 1;
${record(v, '$key', `${i}  `)}${i}}
`;
    };
    body += `  if (args->oldstate == 7 && args->newstate == 2) {
${f.replace(/^/gm, '  ')}    if ($in) {
      if (args->family == 10) {
${family('_v6', '        ')}      } else {
${family('', '        ')}      }
    }
  }
  // the outcome arrives in softirq context: match it to a traced connect by socket address, not by cgroup
  if (args->oldstate == 2) {
    if (@syn[args->skaddr] == 1) {
${emit('S', ['nsecs', '(uint64)args->skaddr', 'args->newstate', 'args->sport'], '      ')}      delete(@syn[args->skaddr]);
    }
${o.aggregate ? `    $rk = @synrep[args->skaddr];
    if ($rk != 0) {
      if (args->newstate == 1) { @rep[$rk, 1] = count(); } else { @rep[$rk, 2] = count(); }
      delete(@synrep[args->skaddr]);
    }
` : ''}  }
`;
  }
  if (listen) {
    body += `  if (args->oldstate == 7 && args->newstate == 10) {
${f.replace(/^/gm, '  ')}    if ($in) {
      if (args->family == 10) {
${emit('L', [...COMMON, 'args->family', 'args->sport', 'ntop(args->saddr_v6)', 'comm'], '        ')}      } else {
${emit('L', [...COMMON, 'args->family', 'args->sport', 'ntop(args->saddr)', 'comm'], '        ')}      }
    }
  }
`;
  }
  return `
tracepoint:sock:inet_sock_set_state {
  if (args->protocol == 6) {
${body}  }
}
`;
}

function acceptProbe(f: string): string {
  return `
tracepoint:syscalls:sys_exit_accept, tracepoint:syscalls:sys_exit_accept4 {
${f}  if ($in && args->ret >= 0) {
${sockFromFd('args->ret')}    if ($sk->sk_protocol == 6) {
      if ($family == 2) {
${emit('K', [...COMMON, '$family', '$sk->__sk_common.skc_num', 'bswap($sk->__sk_common.skc_dport)', 'ntop($sk->__sk_common.skc_rcv_saddr)', 'ntop($sk->__sk_common.skc_daddr)', 'comm'], '        ')}      }
      if ($family == 10) {
${emit('K', [...COMMON, '$family', '$sk->__sk_common.skc_num', 'bswap($sk->__sk_common.skc_dport)', 'ntop($sk->__sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8)', 'ntop($sk->__sk_common.skc_v6_daddr.in6_u.u6_addr8)', 'comm'], '        ')}      }
    }
  }
}
`;
}

/** One DNS send: `$sk` is the socket, `$name` a user sockaddr or 0, `$data`/`$len` the first buffer.
 * The address is printed as four raw u32 words and formatted by the agent: one printf call site is all the BPF
 * stack allows here. buf() copies a constant length because a variable one reserves BPFTRACE_STRLEN bytes of
 * stack in v0.17; the agent cuts the copy to `len`. */
function dnsEmit(o: ProgramOptions, kinds: ReadonlySet<EventKind>): string {
  return `    $dport = bswap($sk->__sk_common.skc_dport);
    $dfamily = $family;
    if ($dport == 0 && $name != 0) {
      $dport = bswap(((struct sockaddr_in *)$name)->sin_port);
      $dfamily = ((struct sockaddr_in *)$name)->sin_family;
    }
    if ($dport == 53 && ($sk->sk_protocol == 17 || $sk->sk_protocol == 6)) {
      $a0 = (uint32)0; $a1 = (uint32)0; $a2 = (uint32)0; $a3 = (uint32)0;
      if ($name != 0) {
        if ($dfamily == 10) {
          $a0 = ((struct sockaddr_in6 *)$name)->sin6_addr.in6_u.u6_addr32[0];
          $a1 = ((struct sockaddr_in6 *)$name)->sin6_addr.in6_u.u6_addr32[1];
          $a2 = ((struct sockaddr_in6 *)$name)->sin6_addr.in6_u.u6_addr32[2];
          $a3 = ((struct sockaddr_in6 *)$name)->sin6_addr.in6_u.u6_addr32[3];
        } else {
          $a0 = ((struct sockaddr_in *)$name)->sin_addr.s_addr;
        }
      } else {
        if ($dfamily == 10) {
          $a0 = $sk->__sk_common.skc_v6_daddr.in6_u.u6_addr32[0];
          $a1 = $sk->__sk_common.skc_v6_daddr.in6_u.u6_addr32[1];
          $a2 = $sk->__sk_common.skc_v6_daddr.in6_u.u6_addr32[2];
          $a3 = $sk->__sk_common.skc_v6_daddr.in6_u.u6_addr32[3];
        } else {
          $a0 = $sk->__sk_common.skc_daddr;
        }
      }
${emit('D', [...COMMON, '$dfamily', '$sk->sk_protocol', '$dport', '$len', '$a0', '$a1', '$a2', '$a3', 'comm', `buf($data, ${o.dnsBytes})`], '      ')}${
  usesLastDns(o, kinds) ? '      @dnslast[pid] = nsecs;\n' : ''}    }
`;
}

/** Connects are keyed by their process's last DNS query (aggregated connects and DNS both traced). */
function usesLastDns(o: ProgramOptions, kinds: ReadonlySet<EventKind>): boolean {
  return o.aggregate && kinds.has('dns') && kinds.has('connect');
}

function dnsProbes(o: ProgramOptions, f: string, kinds: ReadonlySet<EventKind>): string {
  return `
tracepoint:syscalls:sys_enter_sendto {
${f}  if ($in) {
${sockFromFd('args->fd')}    $name = (uint64)args->addr;
    $data = args->buff;
    $len = args->len;
${dnsEmit(o, kinds)}  }
}

tracepoint:syscalls:sys_enter_sendmsg {
${f}  if ($in) {
${sockFromFd('args->fd')}    $msg = (struct user_msghdr *)args->msg;
    $name = (uint64)$msg->msg_name;
    $iov = (struct iovec *)$msg->msg_iov;
    $data = $iov->iov_base;
    $len = $iov->iov_len;
${dnsEmit(o, kinds)}  }
}

tracepoint:syscalls:sys_enter_sendmmsg {
${f}  if ($in) {
${sockFromFd('args->fd')}    $m = (struct mmsghdr *)args->mmsg;
    $name = (uint64)$m->msg_hdr.msg_name;
    $iov = (struct iovec *)$m->msg_hdr.msg_iov;
    $data = $iov->iov_base;
    $len = $iov->iov_len;
${dnsEmit(o, kinds)}    // glibc sends the A and AAAA questions in one sendmmsg
    if (args->vlen > 1) {
      $m = $m + 1;
      $name = (uint64)$m->msg_hdr.msg_name;
      $iov = (struct iovec *)$m->msg_hdr.msg_iov;
      $data = $iov->iov_base;
      $len = $iov->iov_len;
${dnsEmit(o, kinds).replace(/^/gm, '  ')}    }
  }
}
`;
}

/** Whether any probe of the program aggregates. */
function aggregates(o: ProgramOptions, kinds: ReadonlySet<EventKind>): boolean {
  return o.aggregate && (kinds.has('open') || kinds.has('connect'));
}

/** The seen-once filters are cleared when they have taken half the map's keys; their repeats are then printed
 * once more and counted again. @pexe and @dnslast go with their task. */
function aggregationProbes(o: ProgramOptions, kinds: ReadonlySet<EventKind>): string {
  if (!aggregates(o, kinds)) return '';
  const filters = [...(kinds.has('open') ? ['@oseen'] : []), ...(kinds.has('connect') ? ['@cseen'] : [])];
  let code = `
interval:ms:200 {
  if (@nseen > ${Math.floor(o.mapKeys / 2)}) {
${filters.map((m) => `    clear(${m});\n`).join('')}    @nseen = 0;
  }
}
`;
  if (usesLastDns(o, kinds) || namesExe(o, kinds)) {
    code += `
tracepoint:sched:sched_process_exit {
${namesExe(o, kinds) ? '  delete(@pexe[tid]);\n' : ''}${usesLastDns(o, kinds) ? '  if (pid == tid) { delete(@dnslast[pid]); }\n' : ''}}
`;
  }
  return code;
}

function aggregationMaps(o: ProgramOptions, kinds: ReadonlySet<EventKind>): string[] {
  if (!aggregates(o, kinds)) return [];
  return [
    ...(kinds.has('open') ? ['@oseen', '@opromo', '@open_agg', '@open_promo', '@rclass'] : []),
    ...(kinds.has('connect') ? ['@cseen', '@cpromo', '@synrep'] : []),
    '@seq', '@nseen', '@nrep',
    ...(usesLastDns(o, kinds) ? ['@dnslast'] : []),
    ...(namesExe(o, kinds) ? ['@exeid', '@eseq', '@exec_pending', '@pexe'] : []),
  ];
}

// ---------------------------------------------------------------------------------------------------------------
// The built-in packages

/** What a built-in package adds to the joint program. `kinds` is every kind asked for, across packages. */
interface BuiltinPart {
  meta: PackageMeta;
  kinds: readonly EventKind[];
  probes(o: ProgramOptions, filter: string, kinds: ReadonlySet<EventKind>): string;
  /** Maps the probes keep state in, cleared in END so they are not printed. */
  helperMaps(kinds: ReadonlySet<EventKind>): string[];
}

/** Version of the built-in packages: bumped when their probes or their output change. */
export const BUILTIN_VERSION = '1.0.0';

function builtinMeta(name: string, description: string, events: EventSpec[]): PackageMeta {
  return { name, version: BUILTIN_VERSION, description, events, parameters: [], requires: { bpftrace: DEFAULT_MIN_BPFTRACE, kernel: '5.8' }, program: PROGRAM_NAME };
}

const PROGRAM_NAME = 'generated';

function kindEvent(kind: EventKind, fields: string[]): EventSpec {
  return { name: kind, kind, source: 'printf', fields: fields.map((n) => ({ name: n, type: ['path', 'comm', 'exe', 'saddr', 'daddr', 'query', 'qtype', 'proto', 'signal', 'argv'].includes(n) ? 'string' : 'int' })), identity: [] };
}

const PARTS: readonly BuiltinPart[] = [
  {
    meta: builtinMeta('exec', 'Program executions (successful and failed) and process exits, with parentage', [
      kindEvent('exec', ['ts', 'pid', 'ppid', 'uid', 'comm', 'exe', 'argv', 'result']),
      kindEvent('exit', ['ts', 'pid', 'ppid', 'uid', 'comm', 'result', 'signal']),
    ]),
    kinds: ['exec', 'exit'],
    probes: (o, f, kinds) => (kinds.has('exec') ? execProbes(o, f, kinds) : '') + (kinds.has('exit') ? exitProbe(f) : ''),
    helperMaps: () => [],
  },
  {
    meta: builtinMeta('files', 'File opens (open, openat, openat2) with flags and result', [
      kindEvent('open', ['ts', 'pid', 'ppid', 'uid', 'comm', 'path', 'flags', 'result']),
    ]),
    kinds: ['open'],
    probes: (o, f, kinds) => (kinds.has('open') ? openProbes(o, f, kinds) : ''),
    helperMaps: (kinds) => (kinds.has('open') ? ['@open_path', '@open_flags'] : []),
  },
  {
    meta: builtinMeta('tcp', 'TCP connects with their outcome, accepts and listens', [
      kindEvent('connect', ['ts', 'pid', 'ppid', 'uid', 'comm', 'saddr', 'sport', 'daddr', 'dport', 'result']),
      kindEvent('accept', ['ts', 'pid', 'ppid', 'uid', 'comm', 'saddr', 'sport', 'daddr', 'dport']),
      kindEvent('listen', ['ts', 'pid', 'ppid', 'uid', 'comm', 'saddr', 'sport']),
    ]),
    kinds: ['connect', 'accept', 'listen'],
    probes: (o, f, kinds) => (kinds.has('connect') || kinds.has('listen') ? tcpStateProbe(o, f, kinds) : '') + (kinds.has('accept') ? acceptProbe(f) : ''),
    helperMaps: (kinds) => (kinds.has('connect') ? ['@syn'] : []),
  },
  {
    meta: builtinMeta('dns', 'DNS questions sent to port 53 over UDP or TCP (name and type)', [
      kindEvent('dns', ['ts', 'pid', 'ppid', 'uid', 'comm', 'proto', 'daddr', 'dport', 'query', 'qtype']),
    ]),
    kinds: ['dns'],
    probes: (o, f, kinds) => (kinds.has('dns') ? dnsProbes(o, f, kinds) : ''),
    helperMaps: () => [],
  },
];

export const BUILTIN_NAMES: readonly string[] = PARTS.map((p) => p.meta.name);

export function isBuiltinName(name: string): boolean {
  return BUILTIN_NAMES.includes(name);
}

/** The trace kinds the named built-in packages turn on, in EVENT_KINDS order. Throws on an unknown name. */
export function builtinKinds(names: readonly string[]): EventKind[] {
  const kinds = new Set<EventKind>();
  for (const n of names) {
    const part = PARTS.find((p) => p.meta.name === n);
    if (!part) throw new Error(`${n} is not a built-in package (${BUILTIN_NAMES.join(', ')})`);
    for (const k of part.kinds) kinds.add(k);
  }
  return EVENT_KINDS.filter((k) => kinds.has(k));
}

/** The built-in packages that produce any of `kinds`. */
export function builtinsFor(kinds: readonly EventKind[]): string[] {
  return PARTS.filter((p) => p.kinds.some((k) => kinds.includes(k))).map((p) => p.meta.name);
}

/** A built-in package; its source is its part of the program for an example scope (shown by `katabot bpf show`). */
export function builtinPackage(name: string): BpfPackage | undefined {
  const part = PARTS.find((p) => p.meta.name === name);
  if (!part) return undefined;
  const source = generateProgram({ ...DEFAULT_PROGRAM_OPTIONS, scope: { kind: 'cgroups', targets: [1234n] }, agentPid: 4321, kinds: part.kinds });
  return { meta: structuredClone(part.meta), source, origin: { kind: 'builtin' }, builtin: { kinds: part.kinds } };
}

export function builtinPackages(): BpfPackage[] {
  return BUILTIN_NAMES.map((n) => builtinPackage(n)!);
}

/** The whole program text: the packages that produce the requested kinds (all kinds by default), one scope filter,
 * the BEGIN record, the flush marker and END. */
export function generateProgram(options: ProgramOptions): string {
  const o = options;
  const kinds = new Set<EventKind>(o.kinds ?? EVENT_KINDS);
  const f = filterCode(o);
  let program = `// generated by katabot; record protocol: src/trace/protocol.ts
BEGIN {
  $cg = (struct cgroup *)curtask->cgroups->dfl_cgrp;
  $kn = (struct kernfs_node *)$cg->kn;
  $parent = (struct kernfs_node *)$kn->${o.kernfsParentField};
`;
  if (o.scope.kind === 'own-pod') {
    program += `  @self_cg = cgroup;
  @pod_cg = $parent->id;
`;
  } else if (o.scope.kind === 'all-but-self') {
    program += '  @self_cg = cgroup;\n';
  }
  program += `${emit('B', ['cgroup', '$cg->level', '$parent->id'], '  ')}}
`;
  for (const part of PARTS) program += part.probes(o, f, kinds);
  program += aggregationProbes(o, kinds);
  program += `
tracepoint:syscalls:sys_enter_kill /pid == ${o.agentPid} && args->sig == 0 && args->pid >= ${MARKER_BASE}/ {
${emit('M', ['nsecs', 'args->pid - ' + MARKER_BASE], '  ')}}

END {
`;
  const helperMaps = [
    ...PARTS.flatMap((part) => part.helperMaps(kinds)),
    ...(o.scope.kind === 'own-pod' ? ['@self_cg', '@pod_cg'] : o.scope.kind === 'all-but-self' ? ['@self_cg'] : []),
    ...aggregationMaps(o, kinds),
  ];
  // Only @sent and @rep are printed at exit: the agent reads them to count records lost on the way and to count
  // the repeats the kernel aggregated.
  for (const m of helperMaps) program += `  clear(${m});\n`;
  program += '}\n';
  return program;
}
