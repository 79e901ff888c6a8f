// Linux constants the tracer decodes: open(2) flags, errno names and signal names (x86_64/arm64 generic values).

/** Open flags katabot keeps. Noise such as O_CLOEXEC, O_NONBLOCK or O_LARGEFILE is left out on purpose: it
 * changes between libc versions and says nothing about what a job touches. */
export type OpenFlag = 'read' | 'write' | 'create' | 'truncate' | 'append' | 'excl' | 'directory' | 'path' | 'tmpfile';

const O_ACCMODE = 0o3;
const O_WRONLY = 0o1;
const O_RDWR = 0o2;
const O_CREAT = 0o100;
const O_EXCL = 0o200;
const O_TRUNC = 0o1000;
const O_APPEND = 0o2000;
const O_DIRECTORY = 0o200000;
const O_PATH = 0o10000000;
const O_TMPFILE_BITS = 0o20000000; // __O_TMPFILE without O_DIRECTORY

/** Decodes open(2) flags into katabot's fixed-order flag list. */
export function decodeOpenFlags(flags: number): OpenFlag[] {
  const out: OpenFlag[] = [];
  const access = flags & O_ACCMODE;
  if ((flags & O_PATH) !== 0) {
    out.push('path');
  } else {
    if (access === 0 || access === O_RDWR) out.push('read');
    if (access === O_WRONLY || access === O_RDWR) out.push('write');
  }
  if ((flags & O_CREAT) !== 0) out.push('create');
  if ((flags & O_TRUNC) !== 0) out.push('truncate');
  if ((flags & O_APPEND) !== 0) out.push('append');
  if ((flags & O_EXCL) !== 0) out.push('excl');
  if ((flags & O_TMPFILE_BITS) !== 0) out.push('tmpfile');
  else if ((flags & O_DIRECTORY) !== 0) out.push('directory');
  return out;
}

/** Parses a symbolic flag string such as `O_WRONLY|O_CREAT|O_CLOEXEC` (Inspektor Gadget, strace) into flags. */
export function openFlagsFromNames(names: string): OpenFlag[] {
  const values: Record<string, number> = {
    O_RDONLY: 0, O_WRONLY, O_RDWR, O_CREAT, O_EXCL, O_TRUNC, O_APPEND, O_DIRECTORY, O_PATH, O_TMPFILE: O_TMPFILE_BITS | O_DIRECTORY,
  };
  let bits = 0;
  for (const part of names.split(/[|,\s]+/)) {
    const value = values[part.trim().toUpperCase()];
    if (value !== undefined) bits |= value;
  }
  return decodeOpenFlags(bits);
}

const ERRNO_NAMES: Record<number, string> = {
  1: 'EPERM', 2: 'ENOENT', 3: 'ESRCH', 4: 'EINTR', 5: 'EIO', 6: 'ENXIO', 7: 'E2BIG', 8: 'ENOEXEC', 9: 'EBADF',
  10: 'ECHILD', 11: 'EAGAIN', 12: 'ENOMEM', 13: 'EACCES', 14: 'EFAULT', 16: 'EBUSY', 17: 'EEXIST', 18: 'EXDEV',
  19: 'ENODEV', 20: 'ENOTDIR', 21: 'EISDIR', 22: 'EINVAL', 23: 'ENFILE', 24: 'EMFILE', 25: 'ENOTTY', 26: 'ETXTBSY',
  27: 'EFBIG', 28: 'ENOSPC', 30: 'EROFS', 31: 'EMLINK', 36: 'ENAMETOOLONG', 40: 'ELOOP', 95: 'EOPNOTSUPP',
  98: 'EADDRINUSE', 99: 'EADDRNOTAVAIL', 101: 'ENETUNREACH', 104: 'ECONNRESET', 110: 'ETIMEDOUT',
  111: 'ECONNREFUSED', 113: 'EHOSTUNREACH', 115: 'EINPROGRESS',
};

/** `-2` → `ENOENT`; unknown numbers keep their value so nothing is lost. */
export function errnoName(negativeOrPositive: number): string {
  const n = Math.abs(negativeOrPositive);
  return ERRNO_NAMES[n] ?? `E${n}`;
}

const SIGNAL_NAMES: Record<number, string> = {
  1: 'SIGHUP', 2: 'SIGINT', 3: 'SIGQUIT', 4: 'SIGILL', 5: 'SIGTRAP', 6: 'SIGABRT', 7: 'SIGBUS', 8: 'SIGFPE',
  9: 'SIGKILL', 10: 'SIGUSR1', 11: 'SIGSEGV', 12: 'SIGUSR2', 13: 'SIGPIPE', 14: 'SIGALRM', 15: 'SIGTERM',
  17: 'SIGCHLD', 24: 'SIGXCPU', 25: 'SIGXFSZ', 31: 'SIGSYS',
};

function signalName(n: number): string {
  return SIGNAL_NAMES[n] ?? `SIG${n}`;
}

export function signalNumber(name: string): number | undefined {
  for (const [n, s] of Object.entries(SIGNAL_NAMES)) if (s === name) return Number(n);
  return undefined;
}

/** Splits a kernel `exit_code` (wait status) into the exit status and the terminating signal. */
export function decodeWaitStatus(code: number): { status: number; signal?: string } {
  const sig = code & 0x7f;
  if (sig !== 0) return { status: 128 + sig, signal: signalName(sig) };
  return { status: (code >> 8) & 0xff };
}

export const TCP_STATE = {
  ESTABLISHED: 1, SYN_SENT: 2, SYN_RECV: 3, FIN_WAIT1: 4, FIN_WAIT2: 5, TIME_WAIT: 6, CLOSE: 7, CLOSE_WAIT: 8,
  LAST_ACK: 9, LISTEN: 10, CLOSING: 11,
} as const;

export const AF_INET6 = 10;
export const IPPROTO_TCP = 6;

/** IPv4 text from a 32-bit word read from memory on a little-endian host (network byte order in memory). */
export function ipv4FromWord(word: number): string {
  return [word & 0xff, (word >>> 8) & 0xff, (word >>> 16) & 0xff, (word >>> 24) & 0xff].join('.');
}

/** IPv6 text (RFC 5952: lowercase, longest zero run compressed) from four 32-bit words read as above. */
export function ipv6FromWords(words: readonly [number, number, number, number]): string {
  const groups: number[] = [];
  for (const w of words) {
    const b = [w & 0xff, (w >>> 8) & 0xff, (w >>> 16) & 0xff, (w >>> 24) & 0xff] as const;
    groups.push((b[0] << 8) | b[1], (b[2] << 8) | b[3]);
  }
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `::ffff:${ipv4FromWord(words[3])}`;
  }
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** `ENOENT` → 2; undefined for names katabot does not know. */
export function errnoNumber(name: string): number | undefined {
  for (const [n, s] of Object.entries(ERRNO_NAMES)) if (s === name) return Number(n);
  const m = /^E(\d+)$/.exec(name);
  return m ? Number(m[1]) : undefined;
}
