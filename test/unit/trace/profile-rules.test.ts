// Normalisation rules of behavior profiles, as tables: what two runs of the same behaviour must agree on.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  addressIdentity, DEFAULT_FILE_IGNORES, compileGlob, isPrivilegedExec, isSecretPath, isShell, isSystemPath, normalizeArgs,
  normalizeDnsName, normalizeNamespace, normalizePath, normalizePort, parseIgnoreFile, scopeOf, workloadOf,
} from '../../../src/trace/profile-rules.ts';

describe('normalizePath', () => {
  const cases: Array<[string, string, string]> = [
    ['/proc/<pid>', '/proc/12345/status', '/proc/<pid>/status'],
    ['/proc/<pid>/task/<tid>', '/proc/1/task/77/stat', '/proc/<pid>/task/<tid>/stat'],
    ['mktemp -d', '/tmp/tmp.vXAN6nRGP8/x', '/tmp/tmp.<tmp>/x'],
    ['mkdtemp with a prefix, pid in a file name', '/tmp/katabot-work-AbC12x/data-4242.txt', '/tmp/katabot-work-<tmp>/data-<n>.txt'],
    ['python tempfile', '/tmp/tmpa1b2c3d4/f', '/tmp/tmp<tmp>/f'],
    ['python tempfile, letters only', '/tmp/tmpabcdefgh', '/tmp/tmp<tmp>'],
    ['/var/tmp too', '/var/tmp/cache-Zx81Qa/k', '/var/tmp/cache-<tmp>/k'],
    ['/dev/shm too', '/dev/shm/sem.AbC12x', '/dev/shm/sem.<tmp>'],
    ['a plain file in /tmp stays', '/tmp/report.pdf', '/tmp/report.pdf'],
    ['container id (hex)', '/var/lib/docker/containers/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef/config.v2.json', '/var/lib/docker/containers/<hex>/config.v2.json'],
    ['uuid', '/run/containerd/k8s.io/5f0e6b6a-1c2d-4e5f-8a9b-0c1d2e3f4a5b/rootfs', '/run/containerd/k8s.io/<uuid>/rootfs'],
    ['pod UID in a systemd slice', '/sys/fs/cgroup/kubepods-besteffort-pod5f0e6b6a_1c2d_4e5f_8a9b_0c1d2e3f4a5b.slice/cri-containerd', '/sys/fs/cgroup/kubepods-besteffort-pod<uuid>.slice/cri-containerd'],
    ['versioned library', '/usr/lib/x86_64-linux-gnu/libapr-1.so.0.5.1', '/usr/lib/x86_64-linux-gnu/libapr-1.so.<ver>'],
    ['versioned directory', '/root/.pyenv/versions/3.11.7/bin/python3.11', '/root/.pyenv/versions/<ver>/bin/python<ver>'],
    ['v-prefixed version', '/home/u/.cache/node/compile-cache/v24.1.0/abc', '/home/u/.cache/node/compile-cache/<ver>/abc'],
    ['soname and arch stay', '/lib/x86_64-linux-gnu/libc.so.6', '/lib/x86_64-linux-gnu/libc.so.6'],
    ['short numbers stay', '/usr/lib/gcc/x86_64-linux-gnu/12/cc1', '/usr/lib/gcc/x86_64-linux-gnu/12/cc1'],
    ['hash-like segment', '/nix/store/a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p6-bash-5.2/bin/bash', '/nix/store/<hash>-bash-<ver>/bin/bash'],
    ['pid inside a name', '/sys/fs/cgroup/katabot/trace-21132-1/memory.max', '/sys/fs/cgroup/katabot/trace-<n>-1/memory.max'],
    ['pseudo terminals', '/dev/pts/3', '/dev/pts/<n>'],
    ['user runtime dir', '/run/user/1000/bus', '/run/user/<n>/bus'],
    ['pod name with template hash', '/var/log/pods/ns_web-7d9c8b6f5d-x2x7q_uid/c/0.log', '/var/log/pods/ns_web-<rand>_uid/c/0.log'],
    ['relative paths stay relative, . and // go', 'relative/./path//x', 'relative/path/x'],
    ['plain paths unchanged', '/etc/hostname', '/etc/hostname'],
  ];
  for (const [name, input, want] of cases) it(name, () => assert.equal(normalizePath(input), want));
});

describe('normalizeArgs (argv[1..])', () => {
  const cases: Array<[string, string[], string]> = [
    ['temp paths inside a script', ['sh', '-c', 'sleep 3; cat /tmp/tmp.AbCdEf1234/x'], '-c "sleep <n>; cat /tmp/tmp.<tmp>/x"'],
    ['--flag=number', ['node', '--port=34567', 'server.js'], '--port=<n> server.js'],
    ['host:port', ['ssh', 'host:22'], 'host:<port>'],
    ['ip:port keeps the ip', ['x', '127.0.0.1:8080'], '127.0.0.1:<port>'],
    ['numbers in code', ['python3', '-c', 'print(1)'], '-c print(<n>)'],
    ['flags with digits stay', ['make', '-j8'], '-j8'],
    ['uuid', ['uuid', '5f0e6b6a-1c2d-4e5f-8a9b-0c1d2e3f4a5b'], '<uuid>'],
    ['git sha', ['git', 'checkout', '0123456789abcdef0123456789abcdef01234567'], 'checkout <hex>'],
    ['pod names', ['kubectl', 'logs', 'web-7d9c8b6f5d-x2x7q'], 'logs web-<rand>'],
    ['arch names stay', ['gcc', '-march=x86_64', '-O2'], '-march=x86_64 -O2'],
    ['no arguments', ['true'], ''],
    ['empty argument is quoted', ['echo', ''], '""'],
    ['long arguments are clipped', ['echo', 'a'.repeat(300)], 'a'.repeat(119) + '…'],
  ];
  for (const [name, argv, want] of cases) it(name, () => assert.equal(normalizeArgs(argv), want));
});

describe('addresses, ports and names', () => {
  const ips: Array<[string, string, string]> = [
    ['127.0.0.1', 'loopback', 'loopback'],
    ['127.0.0.53', 'loopback', 'loopback'],
    ['::1', 'loopback', 'loopback'],
    ['10.1.2.3', 'private', '10.0.0.0/8'],
    ['172.20.0.1', 'private', '172.16.0.0/12'],
    ['172.32.0.1', 'public', 'public'],
    ['192.168.1.1', 'private', '192.168.0.0/16'],
    ['100.64.0.1', 'private', '100.64.0.0/10'],
    ['8.8.8.8', 'public', 'public'],
    ['2001:4860::8888', 'public', 'public'],
    ['fd00::1', 'private', 'fc00::/7'],
    ['fe80::1', 'link-local', 'fe80::/10'],
    ['::ffff:10.0.0.1', 'private', '10.0.0.0/8'],
    ['0.0.0.0', 'unspecified', '*'],
    ['::', 'unspecified', '*'],
    ['169.254.169.254', 'link-local', '169.254.169.254'],
  ];
  for (const [ip, cls, id] of ips) it(`address ${ip} → ${id}`, () => assert.deepEqual(addressIdentity(ip), { cls, id }));

  const ports: Array<[number, string]> = [[443, '443'], [6443, '6443'], [32767, '32767'], [32768, '<ephemeral>'], [60999, '<ephemeral>']];
  for (const [port, want] of ports) it(`port ${port} → ${want}`, () => assert.equal(normalizePort(port), want));

  const names: Array<[string, string]> = [
    ['Example.COM.', 'example.com'],
    ['svc-0123456789abcdef.example.com', 'svc-<hex>.example.com'],
    ['1.0.0.127.in-addr.arpa', '<ip>.in-addr.arpa'],
  ];
  for (const [name, want] of names) it(`dns ${name} → ${want}`, () => assert.equal(normalizeDnsName(name), want));
});

describe('Kubernetes identity: the workload, never the pod name', () => {
  const pods: Array<[string, string]> = [
    ['web-7d9c8b6f5d-x2x7q', 'web'],
    ['wordpress-c4bf5b44b-4pl25', 'wordpress'],
    ['wordpress-c4bf5b44b-scvx4', 'wordpress'],
    ['node-exporter-x2x7q', 'node-exporter'],
    ['db-0', 'db'],
    ['5f0e6b6a-1c2d-4e5f-8a9b-0c1d2e3f4a5b', '<uuid>'],
    ['standalone', 'standalone'],
  ];
  for (const [pod, want] of pods) it(`${pod} → ${want}`, () => assert.equal(workloadOf(pod), want));
  it('generated namespaces lose their suffix', () => assert.equal(normalizeNamespace('e2e-tests-sig-apps-x2x7q'), 'e2e-tests-sig-apps-<rand>'));
  it('scope: namespace/workload:container, or nothing in command mode', () => {
    assert.equal(scopeOf({ pod: 'web-7d9c8b6f5d-x2x7q', namespace: 'shop', container: 'app' }), 'shop/web:app');
    assert.equal(scopeOf({}), '');
  });
});

describe('globs and ignore files', () => {
  const globs: Array<[string, string, boolean, boolean?]> = [
    ['/usr/lib/locale/**', '/usr/lib/locale/C.utf8/LC_CTYPE', true],
    ['/usr/lib/locale/**', '/usr/lib/locale', true],
    ['/usr/lib/*/gconv/**', '/usr/lib/x86_64-linux-gnu/gconv/gconv-modules.cache', true],
    ['/usr/lib/*/gconv/**', '/usr/lib/a/b/gconv/x', false],
    ['/etc/*.conf', '/etc/resolv.conf', true],
    ['/etc/*.conf', '/etc/ssl/openssl.conf', false],
    ['tcp → *.example.com:443', 'tcp → api.example.com:443', true, true],
    ['* → /usr/bin/curl *', '/usr/bin/bash → /usr/bin/curl -s x', true, true],
    ['/tmp/*', '/tmp/.hidden', true],
    ['/a/**/b', '/a/b', true],
    ['/a/**/b', '/a/x/y/b', true],
    ['/a/(x)|{y}', '/a/(x)|{y}', true],
    ['/var/log/[ab].log', '/var/log/b.log', true],
    ['/var/log/\\[ab\\].log', '/var/log/[ab].log', true],
    ['tcp → \\[::1\\]:*', 'tcp → [::1]:8080', true, true],
    ['files: #1', 'files: #1', true, true],
  ];
  for (const [glob, input, want, anywhere] of globs) it(`${glob} ${want ? 'matches' : 'does not match'} ${input}`, () => assert.equal(compileGlob(glob, anywhere).test(input), want));

  it('parses categories, bare paths and comments; defaults included', () => {
    const r = parseIgnoreFile('# comment\n/var/cache/**\nfiles: write /tmp/**   # trailing\nnetwork: dns *.local\n');
    assert.equal(r.paths.length, DEFAULT_FILE_IGNORES.length + 1);
    assert.equal(r.keys.files.length, 1);
    assert.equal(r.keys.network.length, 1);
    assert.ok(r.paths.some((re) => re.test('/etc/ld.so.cache')));
    assert.ok(r.keys.network[0]!.test('dns printer.local'));
  });
  it('names the line of a malformed rule', () => {
    assert.throws(() => parseIgnoreFile('/ok\nnot a rule\n'), /^Error: line 2: "not a rule"/);
  });
  it('defaults cover locale, the ld.so cache, /proc/self and what glibc reads on its own', () => {
    const r = parseIgnoreFile('');
    for (const p of ['/etc/ld.so.cache', '/usr/lib/locale/locale-archive', '/usr/share/locale/locale.alias', '/proc/self/status', '/proc/sys/vm/overcommit_memory']) {
      assert.ok(r.paths.some((re) => re.test(p)), p);
    }
    for (const p of ['/etc/passwd', '/proc/sys/vm/swappiness', '/proc/sys/net/ipv4/ip_forward']) assert.ok(!r.paths.some((re) => re.test(p)), p);
  });
});

describe('risk predicates', () => {
  it('shells, privileged binaries, system paths, secrets', () => {
    assert.ok(isShell('/bin/bash') && isShell('/usr/bin/sh') && !isShell('/usr/bin/bashful'));
    assert.ok(isPrivilegedExec('/usr/bin/sudo') && isPrivilegedExec('/usr/bin/nsenter') && !isPrivilegedExec('/usr/bin/cat'));
    assert.ok(isSystemPath('/etc/x.conf') && isSystemPath('/usr/local/bin/x') && isSystemPath('/boot/grub') && !isSystemPath('/etcetera'));
    for (const p of ['/etc/shadow', '/etc/gshadow', '/root/.ssh/id_ed25519', '/home/u/.ssh/authorized_keys', '/var/run/secrets/kubernetes.io/serviceaccount/token', '/run/secrets/kubernetes.io/serviceaccount/token']) {
      assert.ok(isSecretPath(p), p);
    }
    assert.ok(!isSecretPath('/etc/passwd'));
  });
});
