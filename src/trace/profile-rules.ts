// Normalisation rules of behavior profiles (docs/diff-format.md "Normalisation"): what makes two traces of the
// same behaviour produce the same keys. Pids, temp names, hex ids, uuids, long numbers, versions and ephemeral
// ports are replaced by placeholders; addresses become identities (DNS name, loopback, private block, public).
// Every rule is a pure string function so it can be tested as a table.
import { Minimatch } from 'minimatch';

/** Placeholders, as they appear in keys. */
const PH = {
  tmp: '<tmp>',
  pid: '<pid>',
  tid: '<tid>',
  n: '<n>',
  hex: '<hex>',
  uuid: '<uuid>',
  hash: '<hash>',
  ver: '<ver>',
  port: '<port>',
  ephemeral: '<ephemeral>',
  rand: '<rand>',
} as const;

/** Linux's default ip_local_port_range starts here (and Juno's isEphemeralPort threshold). */
export const EPHEMERAL_PORT_MIN = 32768;


// with dashes, or with underscores as systemd writes a pod UID in a slice name (kubepods-…-pod<uid_>.slice)
const UUID_RE = /[0-9a-fA-F]{8}([-_])[0-9a-fA-F]{4}\1[0-9a-fA-F]{4}\1[0-9a-fA-F]{4}\1[0-9a-fA-F]{12}/g;
// a run of 12+ hex digits, not part of a longer word, with at least one digit (container ids, git shas, hashes)
const HEX_RE = /(?<![0-9A-Za-z])(?=[0-9a-f]*[0-9])[0-9a-f]{12,}(?![0-9A-Za-z])/g;
// base32/base64-ish tokens of 16+ characters mixing letters and digits (nix store hashes, cache keys)
const HASH_RE = /(?<![0-9A-Za-z])(?=(?:[A-Za-z]*[0-9]){2})(?=(?:[0-9]*[A-Za-z]){2})[0-9A-Za-z]{16,}(?![0-9A-Za-z])/g;
// dotted versions: 3.11.7, v1.30.0, python3.11, libapr-1.so.0.5.1 (the 0.5.1)
const VERSION_RE = /(?<![0-9])(?:(?<![A-Za-z])v)?[0-9]+(?:\.[0-9]+)+(?![0-9])/g;
// 5+ digits anywhere (pids, timestamps, go-build123456789) or 3-4 digits standing alone (trace-123-1)
const LONG_NUMBER_RE = /[0-9]{5,}/g;
const SHORT_NUMBER_RE = /(?<![0-9A-Za-z])[0-9]{3,4}(?![0-9A-Za-z])/g;
// a Deployment pod's `-<pod-template-hash>-<suffix>` (Kubernetes' safe alphabet), with a digit somewhere
const POD_HASH_RE = /-(?=[bcdfghjklmnpqrstvwxz2456789-]*[2456789])[bcdfghjklmnpqrstvwxz2456789]{6,10}-[bcdfghjklmnpqrstvwxz2456789]{5}(?![A-Za-z0-9])/g;
const IPV4_RE = /^(?:25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])(?:\.(?:25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])){3}$/;

/** Generic token rules for one path segment or argument: uuid, hex, hash, version, numbers. */
function normalizeToken(s: string): string {
  if (!/[0-9]/.test(s)) return s; // every rule below needs a digit
  return s
    .replace(POD_HASH_RE, `-${PH.rand}`)
    .replace(UUID_RE, PH.uuid)
    .replace(HEX_RE, PH.hex)
    .replace(HASH_RE, PH.hash)
    .replace(VERSION_RE, PH.ver)
    .replace(LONG_NUMBER_RE, PH.n)
    .replace(SHORT_NUMBER_RE, PH.n);
}

/** A temp name directly below a temp root: tmp.vXAN6nRGP8 → tmp.<tmp>, work-AbC12x → work-<tmp>, tmpa1b2c3d4 → tmp<tmp>. */
function normalizeTempName(segment: string): string {
  let m = /^(.*[._-])([A-Za-z0-9]{6,})((?:\.[A-Za-z0-9]{1,5})?)$/.exec(segment);
  if (m && m[1] !== '.' && !/^[0-9]+$/.test(m[2]!)) return `${normalizeToken(m[1]!)}${PH.tmp}${m[3]}`;
  m = /^(tmp|temp)([A-Za-z0-9_]{6,})((?:\.[A-Za-z0-9]{1,5})?)$/i.exec(segment);
  if (m) return `${m[1]}${PH.tmp}${m[3]}`;
  if (/^[A-Za-z0-9_]{6,}$/.test(segment) && /[0-9]/.test(segment) && /[A-Za-z]/.test(segment)) return PH.tmp;
  return normalizeToken(segment);
}

function isTempRoot(prefix: string): boolean {
  return prefix === '/tmp' || prefix === '/var/tmp' || prefix === '/dev/shm' || prefix === '/run/user/<n>';
}

/**
 * Normalises a file path: `/proc/<pid>`, temp names, uuids, hex, hashes, versions and long numbers. Repeated
 * slashes and `.` segments are removed; relative paths stay relative.
 */
export function normalizePath(path: string): string {
  if (path === '') return path;
  const absolute = path.startsWith('/');
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  const out: string[] = [];
  for (let i = 0; i < parts.length; i++) {
    const seg = parts[i]!;
    const prefix = absolute ? '/' + out.join('/') : '';
    if (absolute && i === 1 && out[0] === 'proc' && /^[0-9]+$/.test(seg)) { out.push(PH.pid); continue; }
    if (absolute && i === 3 && out[0] === 'proc' && out[2] === 'task' && /^[0-9]+$/.test(seg)) { out.push(PH.tid); continue; }
    if (absolute && out[0] === 'dev' && out[1] === 'pts' && i === 2) { out.push(PH.n); continue; }
    if (absolute && isTempRoot(prefix)) { out.push(normalizeTempName(seg)); continue; }
    out.push(normalizeToken(seg));
  }
  return (absolute ? '/' : '') + out.join('/');
}

/** An executable path, normalised like any path (versioned install directories collapse). */
export function normalizeExe(exe: string | undefined): string {
  if (exe === undefined || exe === '') return '?';
  return normalizePath(exe);
}

const MAX_ARG = 120;

/** One argv element: embedded paths, `host:port`, `--opt=value` and bare numbers are normalised. */
function normalizeArg(arg: string): string {
  let a = arg;
  // --flag=value: normalise the value part
  const eq = /^(--?[A-Za-z0-9][A-Za-z0-9_.-]*=)(.*)$/s.exec(a);
  if (eq) return clipArg(eq[1]! + normalizeArgValue(eq[2]!));
  a = normalizeArgValue(a);
  return clipArg(a);
}

function clipArg(a: string): string {
  return a.length > MAX_ARG ? a.slice(0, MAX_ARG - 1) + '…' : a;
}

function normalizeArgValue(v: string): string {
  if (v === '') return v;
  if (/^[0-9]+$/.test(v)) return PH.n;
  if (IPV4_RE.test(v)) return v;
  // host:port and [v6]:port
  const hp = /^((?:\[[0-9a-fA-F:.]+\])|[A-Za-z0-9_.-]+):([0-9]{1,5})$/.exec(v);
  if (hp) return `${IPV4_RE.test(hp[1]!) ? hp[1] : normalizeToken(hp[1]!)}:${PH.port}`;
  // paths inside the argument (a script text, a comma list): every /-rooted run is a path
  const withPaths = v.replace(/(?<![A-Za-z0-9_.~:/-])\/[^\s'"`,;:=()<>|&]*/g, (p) => normalizePath(p));
  // remaining standalone numbers (sleep 3, -n 20, print(1)): digits not inside a word, a version or a placeholder
  return normalizeToken(withPaths).replace(/(?<![0-9A-Za-z_<.-])[0-9]+(?![0-9A-Za-z_>.])/g, PH.n);
}

/** argv[1..] normalised and joined; elements with spaces are quoted. */
export function normalizeArgs(argv: readonly string[] | undefined): string {
  if (!argv || argv.length <= 1) return '';
  return argv.slice(1).map((a) => {
    const n = normalizeArg(a);
    return n === '' || /\s/.test(n) ? JSON.stringify(n) : n;
  }).join(' ');
}

// ---------------------------------------------------------------------------------------------------------------
// Network identities

export type AddressClass = 'loopback' | 'unspecified' | 'private' | 'link-local' | 'public' | 'unknown';

function ipv4Octets(ip: string): number[] | undefined {
  if (!IPV4_RE.test(ip)) return undefined;
  return ip.split('.').map(Number);
}

/** `::ffff:1.2.3.4` → `1.2.3.4`; other addresses unchanged. */
export function unmapIpv4(ip: string): string {
  const m = /^::ffff:([0-9.]+)$/i.exec(ip);
  return m && IPV4_RE.test(m[1]!) ? m[1]! : ip;
}

/** The block a private address belongs to (RFC 1918, CGNAT, ULA), for grouping. */
export function addressIdentity(rawIp: string | undefined): { cls: AddressClass; id: string } {
  if (rawIp === undefined || rawIp === '') return { cls: 'unknown', id: '?' };
  const ip = unmapIpv4(rawIp.toLowerCase());
  const o = ipv4Octets(ip);
  if (o) {
    const [a, b] = [o[0]!, o[1]!];
    if (a === 127) return { cls: 'loopback', id: 'loopback' };
    if (ip === '0.0.0.0') return { cls: 'unspecified', id: '*' };
    if (a === 10) return { cls: 'private', id: '10.0.0.0/8' };
    if (a === 172 && b >= 16 && b <= 31) return { cls: 'private', id: '172.16.0.0/12' };
    if (a === 192 && b === 168) return { cls: 'private', id: '192.168.0.0/16' };
    if (a === 100 && b >= 64 && b <= 127) return { cls: 'private', id: '100.64.0.0/10' };
    // the cloud metadata service is an identity of its own: a new call to it matters
    if (ip === '169.254.169.254') return { cls: 'link-local', id: '169.254.169.254' };
    if (a === 169 && b === 254) return { cls: 'link-local', id: '169.254.0.0/16' };
    return { cls: 'public', id: 'public' };
  }
  if (ip.includes(':')) {
    if (ip === '::1') return { cls: 'loopback', id: 'loopback' };
    if (ip === '::') return { cls: 'unspecified', id: '*' };
    if (/^f[cd][0-9a-f]{0,2}:/.test(ip)) return { cls: 'private', id: 'fc00::/7' };
    if (/^fe[89ab][0-9a-f]?:/.test(ip)) return { cls: 'link-local', id: 'fe80::/10' };
    return { cls: 'public', id: 'public' };
  }
  return { cls: 'unknown', id: ip };
}

/** Server ports are identity; ephemeral ports (client ports, port-0 listeners) are not. */
export function normalizePort(port: number | undefined): string {
  if (port === undefined) return '?';
  return port >= EPHEMERAL_PORT_MIN ? PH.ephemeral : String(port);
}

/** A DNS name as an identity: lowercase, no trailing dot, random labels normalised, reverse lookups collapsed. */
export function normalizeDnsName(name: string): string {
  const n = name.toLowerCase().replace(/\.$/, '');
  if (/\.in-addr\.arpa$/.test(n)) return `<ip>.in-addr.arpa`;
  if (/\.ip6\.arpa$/.test(n)) return `<ip>.ip6.arpa`;
  return n.split('.').map((label) => normalizeToken(label)).join('.');
}

// ---------------------------------------------------------------------------------------------------------------
// Kubernetes identities

// Kubernetes' rand.SafeEncodeString alphabet: generateName suffixes and pod-template hashes use only these.
const K8S_SAFE = '[bcdfghjklmnpqrstvwxz2456789]';
const POD_SUFFIX_RE = new RegExp(`^(.+?)(?:-${K8S_SAFE}{6,10})?-${K8S_SAFE}{5}$`);
const STATEFUL_RE = /^(.+)-[0-9]+$/;

/**
 * The workload a pod belongs to, from its name (the trace has no owner references): a Deployment's
 * `web-7d9c8b6f5d-x2x7q` and a DaemonSet's or Job's `web-x2x7q` are `web`, a StatefulSet's `db-0` is `db`;
 * uuid-named pods (ProwJob pods) become `<uuid>`.
 */
export function workloadOf(pod: string): string {
  if (UUID_RE.test(pod)) { UUID_RE.lastIndex = 0; return normalizeToken(pod); }
  UUID_RE.lastIndex = 0;
  const m = POD_SUFFIX_RE.exec(pod);
  if (m) return m[1]!;
  const s = STATEFUL_RE.exec(pod);
  if (s) return s[1]!;
  return normalizeToken(pod);
}

/** A namespace with a generateName suffix (e2e-tests-sig-apps-x2x7q) loses it. */
export function normalizeNamespace(ns: string): string {
  const m = new RegExp(`^(.+)-${K8S_SAFE}{5}$`).exec(ns);
  return m ? `${m[1]}-${PH.rand}` : normalizeToken(ns);
}

/** Container part of a scope for what runs in a Kata pod outside its containers: in the guest (the kata-agent, the
 * guest's own processes), and on the host (the shim, the VMM, virtiofsd). */
const GUEST_SCOPE = '(guest)';
const SANDBOX_SCOPE = '(sandbox)';

/** `[ns/workload:container]` prefix of a key in pod mode, '' in command mode. A Kata guest's events are scoped by
 * their pod and container like a runc pod's (never by sandbox id, which changes every run). */
export function scopeOf(e: { pod?: string; namespace?: string; container?: string; kernel?: string; sandbox?: string }): string {
  if (!e.pod) return '';
  const ns = e.namespace ? `${normalizeNamespace(e.namespace)}/` : '';
  const name = e.container ? normalizeToken(e.container)
    : e.kernel === 'guest' ? GUEST_SCOPE : e.kernel === 'host' && e.sandbox ? SANDBOX_SCOPE : undefined;
  return `${ns}${workloadOf(e.pod)}${name ? `:${name}` : ''}`;
}

/** The pod part of a scope (`ns/workload`), to group a report's items by pod. */
export function podOfScope(scope: string): string {
  const i = scope.indexOf(':');
  return i < 0 ? scope : scope.slice(0, i);
}

// ---------------------------------------------------------------------------------------------------------------
// Globs (ignore lists)

/** A compiled glob of an ignore rule. */
export interface Glob {
  test(text: string): boolean;
}

// minimatch's syntax without what an ignore rule never needs: no braces, extglobs, negation or comments (`#` is
// the ignore file's comment). `*` also matches names starting with a dot. `[…]` is a character class; `\`
// escapes.
const GLOB_OPTIONS = { dot: true, nobrace: true, noext: true, nonegate: true, nocomment: true } as const;
/** Stands for `/` in key globs, so that minimatch's `*` crosses it (a private-use character, in no key). */
const SLASH = '\uf8ff';

/**
 * A glob (minimatch). In path globs `*` and `?` stay within one segment, `**` crosses segments, and `dir/**` also
 * matches `dir` itself; in key globs (`anywhere`) `*` matches anything, `/` included.
 */
export function compileGlob(glob: string, anywhere = false): Glob {
  if (anywhere) {
    const mm = new Minimatch(glob.replaceAll('/', SLASH), GLOB_OPTIONS);
    return { test: (text) => mm.match(text.replaceAll('/', SLASH)) };
  }
  const mm = new Minimatch(glob, GLOB_OPTIONS);
  const dir = glob.endsWith('/**') ? new Minimatch(glob.slice(0, -3), GLOB_OPTIONS) : undefined;
  return { test: (path) => mm.match(path) || (dir?.match(path) ?? false) };
}

/** Noise every run has: the dynamic loader's cache, locale data, the process's own /proc entries, cgroup and
 * memory introspection, tty and random devices, and what the C library reads on its own. Matched against
 * normalised paths. */
export const DEFAULT_FILE_IGNORES: readonly string[] = [
  '/etc/ld.so.cache',
  '/etc/ld.so.preload',
  '/usr/lib/locale/**',
  '/usr/share/locale/**',
  '/usr/share/i18n/**',
  '/usr/lib/*/gconv/**',
  '/usr/lib/gconv/**',
  '/etc/localtime',
  '/usr/share/zoneinfo/**',
  '/proc/self/**',
  '/proc/thread-self/**',
  '/proc/stat',
  '/proc/meminfo',
  '/proc/cpuinfo',
  // glibc's malloc reads it the first time it may give a thread arena's memory back: when, or whether, depends on
  // timing, not on the program (QEMU under the guest test, once in one run of three)
  '/proc/sys/vm/overcommit_memory',
  '/sys/fs/cgroup/**',
  '/sys/devices/system/cpu/**',
  '/dev/null',
  '/dev/zero',
  '/dev/tty',
  '/dev/pts/**',
  '/dev/urandom',
  '/dev/random',
];

export type Category = 'processes' | 'files' | 'network' | 'k8sApi';
export const CATEGORIES: readonly Category[] = ['processes', 'files', 'network', 'k8sApi'];

export interface IgnoreRules {
  /** Matched against normalised file paths (any access). */
  paths: Glob[];
  /** Matched against item keys, per category. */
  keys: Record<Category, Glob[]>;
  /** Matched against the keys of eBPF packages' custom items (`<package>/<event> field=value …`). */
  custom: Glob[];
}

function emptyIgnores(): IgnoreRules {
  return { paths: [], keys: { processes: [], files: [], network: [], k8sApi: [] }, custom: [] };
}

/**
 * Parses an ignore file: one glob a line, `#` comments. `category: glob` matches that category's keys
 * (`files: write /var/cache/**`, `network: tcp → *.example.com:443`, `custom: syscount/syscalls comm=node*`); a
 * bare glob starting with `/` matches file paths of any access. Throws with the line number on a malformed line.
 */
export function parseIgnoreFile(text: string, defaults = true): IgnoreRules {
  const rules = emptyIgnores();
  if (defaults) rules.paths.push(...DEFAULT_FILE_IGNORES.map((g) => compileGlob(g)));
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/(^|\s)#.*$/, '').trim();
    if (line === '') continue;
    const m = /^(processes|files|network|k8sApi|k8sapi|custom|paths?)\s*:\s*(.+)$/.exec(line);
    if (m) {
      const cat = m[1]!.toLowerCase();
      if (cat === 'path' || cat === 'paths') rules.paths.push(compileGlob(m[2]!));
      else if (cat === 'custom') rules.custom.push(compileGlob(m[2]!, true));
      else rules.keys[(cat === 'k8sapi' ? 'k8sApi' : cat) as Category].push(compileGlob(m[2]!, true));
    } else if (line.startsWith('/')) {
      rules.paths.push(compileGlob(line));
    } else {
      throw new Error(`line ${i + 1}: ${JSON.stringify(line)} is neither a path glob (starting with /) nor "category: glob" (processes, files, network, k8sApi, custom)`);
    }
  }
  return rules;
}

export function defaultIgnores(): IgnoreRules {
  return parseIgnoreFile('', true);
}

// ---------------------------------------------------------------------------------------------------------------
// Risk predicates (on normalised values)

const SHELLS = new Set(['sh', 'bash', 'dash', 'zsh', 'ash', 'ksh', 'mksh', 'fish', 'csh', 'tcsh', 'busybox']);
/** Binaries that are setuid-root on common distributions, or that change privileges or namespaces. */
const PRIVILEGED = new Set([
  'sudo', 'su', 'doas', 'pkexec', 'passwd', 'chsh', 'chfn', 'newgrp', 'gpasswd', 'mount', 'umount', 'fusermount',
  'fusermount3', 'newuidmap', 'newgidmap', 'nsenter', 'unshare', 'chroot', 'setpriv', 'capsh', 'setcap', 'insmod',
  'modprobe', 'rmmod', 'kexec', 'mknod', 'runuser', 'setuid', 'crontab', 'at',
]);

function basename(path: string): string {
  const i = path.lastIndexOf('/');
  return i >= 0 ? path.slice(i + 1) : path;
}

export function isShell(exe: string): boolean {
  return SHELLS.has(basename(exe));
}

export function isPrivilegedExec(exe: string): boolean {
  return PRIVILEGED.has(basename(exe));
}

/** Writes here change the system itself. */
export function isSystemPath(path: string): boolean {
  return /^\/(etc|usr|boot)(\/|$)/.test(path);
}

const SECRET_PATHS: readonly RegExp[] = [
  /^\/etc\/(shadow|gshadow|sudoers)(-|\/|$)/,
  /^\/etc\/sudoers\.d(\/|$)/,
  /^\/etc\/ssh\/ssh_host_[^/]*_key$/,
  /(^|\/)\.ssh(\/|$)/,
  /^\/(var\/)?run\/secrets\/kubernetes\.io\/serviceaccount\/[^/]*token/,
  /^\/(var\/)?run\/secrets\/(eks\.amazonaws\.com|tokens)\//,
  /(^|\/)\.kube\/config$/,
  /(^|\/)\.aws\/credentials$/,
  /(^|\/)\.docker\/config\.json$/,
  /(^|\/)\.git-credentials$/,
  /(^|\/)\.netrc$/,
];

export function isSecretPath(path: string): boolean {
  return SECRET_PATHS.some((re) => re.test(path));
}
