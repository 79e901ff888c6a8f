// The katabot action's pure decisions: inputs checked (one line naming the bad input), the tracer's command line
// per scope, the run facts from Actions' variables and event payload, the manifest and the job summary.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  actionPaths, artifactNameFor, buildManifest, headerAndFooter, parseInputs, runFacts, summaryMarkdown, tracedWrapper, tracerArgs,
  type ActionInputs,
} from '../../../action/plan.ts';
import { manifestProblem } from '../../../src/trace/action-manifest.ts';
import type { TraceFooter, TraceHeader } from '../../../src/trace/format.ts';

const get = (inputs: Record<string, string>) => (name: string) => inputs[name] ?? '';
const ENV = { GITHUB_JOB: 'run-k8s-tests', GITHUB_RUN_ID: '42', GITHUB_RUN_ATTEMPT: '2' };

describe('parseInputs', () => {
  const bad: Array<[string, Record<string, string>, RegExp]> = [
    ['scope', { scope: 'everything' }, /^input scope: "everything" is not runner, steps or cgroup:\/PATH$/],
    ['relative cgroup', { scope: 'cgroup:system.slice' }, /^input scope: cgroup:system\.slice is not an absolute cgroup path/],
    ['cgroup with ..', { scope: 'cgroup:/a/../b' }, /^input scope: cgroup:\/a\/\.\.\/b is not an absolute cgroup path/],
    ['name', { name: 'a\nb' }, /^input name: "a\\nb" is not a job name/],
    ['probes', { probes: 'dns;rm -rf /' }, /^input probes: /],
    ['install', { install: 'maybe' }, /^input install: "maybe" is not true or false$/],
    ['ready-timeout', { 'ready-timeout': '-3' }, /^input ready-timeout: /],
    ['retention-days', { 'retention-days': '91' }, /^input retention-days: "91" is not a whole number of days from 1 to 90$/],
    ['artifact-name without the prefix', { 'artifact-name': 'trace' }, /^input artifact-name: "trace" must start with katabot-trace-/],
    ['artifact-name with a slash', { 'artifact-name': 'katabot-trace-a/b' }, /must start with katabot-trace- .* and hold no/],
  ];
  for (const [what, inputs, message] of bad) it(`refuses a bad ${what}`, () => assert.throws(() => parseInputs(get(inputs), ENV), { message }));

  it('defaults: the job id as name, the whole runner, all probes, install', () => {
    const i = parseInputs(get({}), ENV);
    assert.deepEqual({ name: i.name, artifactName: i.artifactName, scope: i.scope, probes: i.probes, install: i.install, auditLogs: i.auditLogs, retentionDays: i.retentionDays, readyTimeoutSeconds: i.readyTimeoutSeconds },
      { name: 'run-k8s-tests', artifactName: 'katabot-trace-run-k8s-tests', scope: { kind: 'runner' }, probes: '', install: true, auditLogs: [], retentionDays: undefined, readyTimeoutSeconds: 120 });
  });
  it('a matrix job name makes a safe artifact name; audit logs one a line', () => {
    const i = parseInputs(get({ name: 'run-k8s-tests (qemu, latest)', 'audit-log': ' /var/log/a.log \n\n/var/log/b.log\n', probes: 'dns, tcp' }), ENV);
    assert.equal(i.artifactName, 'katabot-trace-run-k8s-tests-qemu-latest');
    assert.deepEqual(i.auditLogs, ['/var/log/a.log', '/var/log/b.log']);
    assert.equal(i.probes, 'dns,tcp');
    assert.equal(artifactNameFor('a//b'), 'katabot-trace-a-b');
  });
});

describe('tracerArgs', () => {
  const paths = actionPaths('/home/runner/work/_temp/', 'run-k8s-tests (qemu)');
  const cases: Array<[string, Record<string, string>, string[]]> = [
    ['runner', {}, []],
    ['cgroup', { scope: 'cgroup:/system.slice' }, ['--cgroup', '/system.slice']],
    ['steps', { scope: 'steps' }, ['--cgroup', '/katabot/steps-42-2-run-k8s-tests-qemu']],
    ['probes', { probes: 'dns,tcp' }, ['--probe', 'dns,tcp']],
  ];
  for (const [what, inputs, extra] of cases) {
    it(what, () => {
      const i = parseInputs(get({ name: 'run-k8s-tests (qemu)', ...inputs }), ENV);
      assert.deepEqual(tracerArgs(i, paths, ENV), [
        'trace', '--host', '--no-summary', '--out', '/home/runner/work/_temp/katabot/run-k8s-tests-qemu/artifact/trace.jsonl',
        '--ready-file', '/home/runner/work/_temp/katabot/run-k8s-tests-qemu/ready', '--until-file', '/home/runner/work/_temp/katabot/run-k8s-tests-qemu/stop', ...extra,
      ]);
    });
  }
  it('katabot-traced joins the cgroup as root, or through sudo', () => {
    assert.match(tracedWrapper('/sys/fs/cgroup/katabot/x', true), /^echo \$\$ > '\/sys\/fs\/cgroup\/katabot\/x\/cgroup\.procs' \|\| /m);
    assert.match(tracedWrapper('/sys/fs/cgroup/katabot/x', false), /^echo \$\$ \| sudo -n tee '\/sys\/fs\/cgroup\/katabot\/x\/cgroup\.procs'/m);
    assert.match(tracedWrapper('/x', false), /^exec "\$@"$/m);
  });
});

describe('runFacts', () => {
  const env = { ...ENV, GITHUB_REPOSITORY: 'o/r', GITHUB_WORKFLOW: 'CI', GITHUB_EVENT_NAME: 'pull_request', GITHUB_SHA: 'm'.repeat(40), GITHUB_REF: 'refs/pull/5/merge', GITHUB_REF_NAME: 'main' };
  const sha = 'a'.repeat(40);
  const cases: Array<[string, unknown, unknown]> = [
    ['a pull_request event names its PR', { pull_request: { number: 5, head: { sha }, base: { ref: 'main' } } }, { number: 5, headSha: sha, baseRef: 'main' }],
    ['a /trace dispatch names it in its inputs', { inputs: { 'katabot-trace': true, 'katabot-pr': '7', 'katabot-sha': sha } }, { number: 7, headSha: sha, baseRef: 'main' }],
    ['a dispatch without katabot inputs names none', { inputs: { foo: 'bar' } }, undefined],
    ['a dispatch with a bad sha names none', { inputs: { 'katabot-pr': '7', 'katabot-sha': 'HEAD' } }, undefined],
    ['a push names none', { ref: 'refs/heads/main' }, undefined],
  ];
  for (const [what, event, pull] of cases) it(what, () => assert.deepEqual(runFacts(env, event as never).pull, pull));
  it('the run', () => {
    const f = runFacts(env, undefined);
    assert.deepEqual([f.repository, f.workflow, f.job, f.runId, f.runAttempt, f.event], ['o/r', 'CI', 'run-k8s-tests', 42, 2, 'pull_request']);
  });
});

const header = { type: 'header', format: 'katabot-trace', version: '1.0', katabot: '0.1.0', source: 'bpftrace', bpftrace: 'v0.17.0', kernel: '6.8.0-1017-azure', host: 'fv-az', start: '2026-01-01T00:00:00.000Z', target: { mode: 'host', cgroup: '/' }, limits: { strlen: 200, max_args: 32 } } as TraceHeader;
const footer = (lost: number): TraceFooter => ({ type: 'footer', counts: { exec: 10, exit: 9, open: 300, connect: 4, accept: 1, listen: 2, dns: 3 }, lost: { reported: lost, gap: 0, incomplete: 0, total: lost }, malformed: 0, truncated: 0, duration_ms: 1000, end: '2026-01-01T00:00:01.000Z', exit_code: null });

describe('manifest and summary', () => {
  const inputs = parseInputs(get({ name: 'k8s' }), ENV) as ActionInputs;
  it('the manifest katabot reads back', () => {
    const m = buildManifest(inputs, runFacts(ENV, undefined), { state: 'traced', header, footer: footer(0) }, { trace: 'trace.jsonl', audit: ['audit/0-audit.log'], guest: [] });
    assert.equal(manifestProblem(JSON.parse(JSON.stringify(m))), undefined);
    assert.deepEqual(m.status, { state: 'traced', lost: 0, events: 329 });
    assert.match(manifestProblem({ ...m, files: { ...m.files, trace: '../etc/passwd' } }) ?? '', /files\.trace is not a path inside the artifact/);
    assert.match(manifestProblem({ ...m, version: 2 }) ?? '', /version 2 is not 1/);
  });
  it('reads the header and the footer lines', () => {
    assert.deepEqual(headerAndFooter(JSON.stringify(header), JSON.stringify(footer(0)))?.footer?.counts.exec, 10);
    assert.equal(headerAndFooter(JSON.stringify(header), '{"type":"event"')?.footer, undefined, 'no footer: cut short');
    assert.equal(headerAndFooter('not json', ''), undefined);
  });
  it('the summary: counts, lost events, the upload', () => {
    const s = summaryMarkdown(inputs, { state: 'traced', header, footer: footer(7) }, { ok: true, id: 1, size: 2048 });
    assert.match(s, /\| 10 \| 9 \| 300 \| 4 \| 1 \| 2 \| 3 \| 7 \|/);
    assert.match(s, /> 7 events were lost \(reported 7, gap 0, incomplete 0\): the behavior diff of this run is low confidence\./);
    assert.match(s, /Uploaded as artifact `katabot-trace-k8s` \(2048 bytes\)/);
    assert.match(summaryMarkdown(inputs, { state: 'traced', header, footer: undefined }, { ok: false, reason: 'quota' }), /no footer[\s\S]*\*\*Not uploaded:\*\* quota/);
    assert.match(summaryMarkdown(inputs, { state: 'failed', reason: 'eBPF unavailable: no bpftrace' }, undefined), /\*\*Not traced:\*\* eBPF unavailable: no bpftrace\n\nThe job itself is not affected: tracing never fails it\./);
  });
});
