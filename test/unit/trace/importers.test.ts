// Importers turn other tracers' exports into katabot traces. The samples in samples/ were written from the
// documented schemas (Tetragon events.proto/tetragon.proto, Inspektor Gadget gadget types, KubeArmor
// observability.proto); see the comments at the top of each importer.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseTrace, serializeTrace, TraceParseError, type Trace } from '../../../src/trace/format.ts';
import { importInspektorGadget } from '../../../src/trace/importers/inspektor-gadget.ts';
import { importKubeArmor } from '../../../src/trace/importers/kubearmor.ts';
import { importTetragon, splitTetragonArguments } from '../../../src/trace/importers/tetragon.ts';

const sample = (name: string): string => readFileSync(new URL(`./samples/${name}`, import.meta.url), 'utf8');
const pick = (t: Trace, ...keys: string[]): unknown[] => t.events.map((e) => Object.fromEntries(keys.filter((k) => (e as unknown as Record<string, unknown>)[k] !== undefined).map((k) => [k, (e as unknown as Record<string, unknown>)[k]])));

function roundTrips(t: Trace): void {
  assert.deepEqual(parseTrace(serializeTrace(t)), JSON.parse(JSON.stringify(t)));
}

describe('Tetragon importer', () => {
  const t = importTetragon(sample('tetragon.jsonl'), { katabot: '9.9.9' });

  it('writes a header naming the source and node, and skips procFS and loader events', () => {
    assert.equal(t.header.source, 'tetragon');
    assert.equal(t.header.host, 'node-1');
    assert.equal(t.header.bpftrace, null);
    assert.equal(t.header.katabot, '9.9.9');
    assert.deepEqual(t.events.map((e) => e.kind), ['exec', 'connect', 'open', 'listen', 'exit', 'exit']);
  });

  it('maps exec with argv, parent, cwd and pod', () => {
    assert.deepEqual(t.events[0], {
      type: 'event', ts: 0, kind: 'exec', pid: 52699, ppid: 52690, comm: 'curl', exe: '/usr/bin/curl', uid: 0, cwd: '/workspace',
      container: 'test', container_id: '551e161c47d8ff0eb665438a7bcd5b4e6f708192a3b4c5d6e7f8091a2b3c4d5', pod: 'kata-job-1',
      namespace: 'test-pods', parent_exe: '/bin/bash', argv: ['/usr/bin/curl', '-s', 'https://example.com/a b', '-o', '/tmp/out'], result: 0,
    });
  });

  it('maps kprobe sockets and files, and exits with signal or status', () => {
    assert.deepEqual(pick(t, 'kind', 'proto', 'saddr', 'sport', 'daddr', 'dport', 'path', 'flags', 'result', 'signal').slice(1), [
      { kind: 'connect', proto: 'tcp', saddr: '10.244.0.12', sport: 41234, daddr: '93.184.216.34', dport: 443 },
      { kind: 'open', path: '/etc/ssl/certs/ca-certificates.crt', flags: ['read'] },
      { kind: 'listen', proto: 'tcp', saddr: '::', sport: 8080 },
      { kind: 'exit', result: 137, signal: 'SIGKILL' },
      { kind: 'exit', result: 3 },
    ]);
  });

  it('keeps nanosecond time offsets from the earliest event and a footer with counts', () => {
    assert.equal(t.events[1]!.ts, 250_000_000 - 100); // from the exec at .000000100 (the earlier procFS event is skipped)
    assert.equal(t.footer.counts.exec, 1);
    assert.equal(t.footer.counts.exit, 2);
    assert.equal(t.footer.duration_ms, 1100);
    roundTrips(t);
  });

  it('splits Tetragon argument strings, keeping quoted words', () => {
    assert.deepEqual(splitTetragonArguments(`-c "echo 'a b'" x\\ y 'c d'`), ['-c', "echo 'a b'", 'x\\', 'y', 'c d']);
  });

  it('names the line of malformed input', () => {
    const text = sample('tetragon.jsonl').split('\n').slice(0, 2).join('\n') + '\n{"process_exec": \n';
    assert.throws(() => importTetragon(text, { strict: true }), (e: unknown) => e instanceof TraceParseError && e.line === 3);
    const lenient = importTetragon(text);
    assert.equal(lenient.footer.malformed, 1, 'without strict the line is skipped and counted');
    assert.equal(lenient.events.length, importTetragon(sample('tetragon.jsonl').split('\n').slice(0, 2).join('\n')).events.length);
  });
});

describe('Inspektor Gadget importer', () => {
  it('reads image-based gadget output (trace_exec, trace_open, trace_tcp)', () => {
    const t = importInspektorGadget(sample('ig-image.jsonl'));
    assert.equal(t.header.source, 'inspektor-gadget');
    assert.equal(t.header.host, 'kind-worker');
    assert.deepEqual(pick(t, 'kind', 'pid', 'ppid', 'comm', 'exe', 'argv', 'path', 'flags', 'result', 'error', 'daddr', 'dport', 'container', 'pod', 'uid'), [
      { kind: 'exec', pid: 4201, ppid: 4200, comm: 'cat', exe: '/usr/bin/cat', argv: ['/bin/cat', '/etc/hostname'], result: 0, container: 'test', pod: 'job-1', uid: 0 },
      { kind: 'exec', pid: 4200, ppid: 4100, comm: 'sh', exe: '/nonexistent', argv: ['/nonexistent'], result: -2, error: 'ENOENT', container: 'test', pod: 'job-1', uid: 0 },
      { kind: 'open', pid: 4201, ppid: 4200, comm: 'cat', path: '/etc/hostname', flags: ['read'], result: 3, container: 'test', pod: 'job-1', uid: 0 },
      { kind: 'open', pid: 4200, ppid: 4100, comm: 'sh', path: '/etc/shadow', flags: ['write', 'create', 'truncate'], result: -13, error: 'EACCES', container: 'test', pod: 'job-1', uid: 1000 },
      { kind: 'connect', pid: 4300, ppid: 4200, comm: 'kubectl', daddr: '10.96.0.1', dport: 443, container: 'test', pod: 'job-1', uid: 0 },
    ]);
    assert.equal(t.events[2]!.ts, 23_500_000); // from the earliest timestamp (the failed exec)
    roundTrips(t);
  });

  it('reads built-in gadget output and skips its log messages', () => {
    const t = importInspektorGadget(sample('ig-builtin.jsonl'));
    assert.deepEqual(pick(t, 'kind', 'argv', 'cwd', 'path', 'flags', 'result', 'saddr', 'sport', 'daddr', 'dport', 'pod', 'namespace'), [
      { kind: 'exec', argv: ['/bin/ls', '-l', '/tmp dir'], cwd: '/root', result: 0, pod: 'mypod', namespace: 'default' },
      { kind: 'open', path: '/root/tmp dir', flags: ['read', 'directory'], result: -2, pod: 'mypod', namespace: 'default' },
      { kind: 'accept', saddr: '::1', sport: 8080, daddr: '::1', dport: 40000, pod: 'mypod', namespace: 'default' },
    ]);
  });

  it('rejects lines that are no gadget event, naming the line', () => {
    assert.throws(() => importInspektorGadget('{"args":"x"}\n\n{"hello":1}\n', { strict: true }), /line 3: not an Inspektor Gadget/);
    const lenient = importInspektorGadget('{"args":"x"}\n\n{"hello":1}\n[1]\n');
    assert.equal(lenient.footer.malformed, 2);
    assert.equal(lenient.events.length, 1);
  });
});

describe('KubeArmor importer', () => {
  const t = importKubeArmor(sample('kubearmor-summary.json'));

  it('maps process, file and network summaries with counts and verdicts', () => {
    assert.equal(t.header.source, 'kubearmor');
    assert.deepEqual(pick(t, 'kind', 'exe', 'parent_exe', 'path', 'proto', 'saddr', 'sport', 'daddr', 'dport', 'count', 'error', 'pod', 'container'), [
      { kind: 'exec', exe: '/usr/bin/mysql', parent_exe: '/bin/bash', count: 3, pod: 'wordpress-c4bf5b44b-4pl25', container: 'wordpress' },
      { kind: 'exec', exe: '/bin/sh', parent_exe: '/usr/sbin/apache2', count: 12, error: 'Block', pod: 'wordpress-c4bf5b44b-4pl25', container: 'wordpress' },
      { kind: 'open', exe: '/usr/sbin/apache2', path: '/var/www/html/wp-config.php', count: 40, pod: 'wordpress-c4bf5b44b-4pl25', container: 'wordpress' },
      { kind: 'connect', exe: '/usr/sbin/apache2', proto: 'tcp', daddr: 'svc/mysql', dport: 3306, count: 7, pod: 'wordpress-c4bf5b44b-4pl25', container: 'wordpress' },
      { kind: 'accept', exe: '/usr/sbin/apache2', proto: 'tcp', sport: 80, daddr: 'pod/load-test-5d8f', count: 100, pod: 'wordpress-c4bf5b44b-4pl25', container: 'wordpress' },
      { kind: 'listen', exe: '/usr/sbin/apache2', saddr: '0.0.0.0', sport: 80, count: 1, pod: 'wordpress-c4bf5b44b-4pl25', container: 'wordpress' },
      { kind: 'exec', exe: '/usr/sbin/mysqld', parent_exe: '/usr/local/bin/docker-entrypoint.sh', count: 1, pod: 'mysql-0', container: 'mysql' },
    ]);
  });

  it('counts aggregated records by their Count in the footer', () => {
    assert.equal(t.footer.counts.exec, 16);
    assert.equal(t.footer.counts.accept, 100);
    roundTrips(t);
  });

  it('reads the pre-2023 output of concatenated Response objects', () => {
    const old = '{"PodName":"a","Namespace":"n","ProcessData":[{"Source":"/bin/sh","Destination":"/bin/ls","Count":"1"}]}\n'
      + '{"PodName":"b","Namespace":"n","OutNwData":[{"Protocol":"UDP","Command":"/bin/nslookup","IP":"10.96.0.10","Port":"53","Count":"2"}]}\n';
    const t2 = importKubeArmor(old);
    assert.deepEqual(pick(t2, 'kind', 'pod', 'proto', 'daddr', 'dport'), [{ kind: 'exec', pod: 'a' }, { kind: 'connect', pod: 'b', proto: 'udp', daddr: '10.96.0.10', dport: 53 }]);
  });

  it('names the line of a syntax error inside the array', () => {
    const broken = sample('kubearmor-summary.json').replace('"Count": "40",', '"Count": 40,,');
    assert.throws(() => importKubeArmor(broken, { strict: true }), (e: unknown) => e instanceof TraceParseError && e.line === 14);
    assert.equal(importKubeArmor(broken).footer.malformed, 1);
  });
});
