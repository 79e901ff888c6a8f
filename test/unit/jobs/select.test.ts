// Job selection, table-driven after Prow's pkg/pjutil/filter_test.go and pkg/config/jobs_test.go.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { distance } from 'fastest-levenshtein';
import {
  branchMatches,
  closestNames,
  contextOf,
  defaultTriggerWords,
  isFailedResult,
  jobLists,
  needsChangedFiles,
  needsExplicitTrigger,
  presubmitsFor,
  rerunCommandOf,
  selectForCommentText,
  selectForRetest,
  selectForTestAll,
  shouldRun,
  SUGGESTED_TARGETS,
  triggerOf,
  triggerSourceOf,
  unknownTargets,
} from '../../../src/jobs/select.ts';
import type { JobConfig, Presubmit } from '../../../src/config/prow-types.ts';
import { parseCommands } from '../../../src/commands/registry.ts';
import { MAX_TARGETS } from '../../../src/commands/types.ts';
import { MAX_UNKNOWN_LISTED } from '../../../src/render/replies.ts';

const job = (name: string, extra: Partial<Presubmit> = {}): Presubmit => ({ name, spec: { containers: [{ name: '', image: 'x' }] }, ...extra });

// A Kata-like set of presubmits used by several tables.
const KATA: Presubmit[] = [
  job('e2e-kata-qemu', { always_run: true }),
  job('e2e-kata-clh', { always_run: true }),
  job('e2e-kata-qemu-tdx', { run_if_changed: '^src/(runtime|agent)/' }),
  job('static-checks', { skip_if_only_changed: '^docs/|\\.md$' }),
  job('docs-spellcheck', { optional: true, run_if_changed: '^docs/|\\.md$' }),
  job('e2e-kata-qemu-snp', { optional: true }),
  job('e2e-kata-coco', { always_run: true, optional: true, branches: ['main'] }),
  job('e2e-kata-stable', { always_run: true, skip_branches: ['^main$'] }),
  job('e2e-kata-nvidia-gpu', { optional: true, trigger: '(?m)^/test-gpu\\s*$', rerun_command: '/test-gpu', context: 'kata-ci / nvidia-gpu' }),
];

const names = (xs: ReadonlyArray<{ presubmit: Presubmit }>): string[] => xs.map((x) => x.presubmit.name).sort();

describe('branchMatches (Prow Brancher.ShouldRun)', () => {
  const cases: Array<{ name: string; branches?: string[]; skip?: string[]; ref: string; want: boolean }> = [
    { name: 'no lists: every branch', ref: 'anything', want: true },
    { name: 'exact branch', branches: ['main'], ref: 'main', want: true },
    { name: 'other branch', branches: ['main'], ref: 'stable-3.2', want: false },
    { name: 'regex branch, full match', branches: ['stable-\\d+\\.\\d+'], ref: 'stable-3.2', want: true },
    { name: 'several entries are alternatives', branches: ['main', 'stable-.*'], ref: 'stable-3.2', want: true },
    { name: 'unanchored like Go MatchString: main matches maintenance', branches: ['main'], ref: 'maintenance', want: true },
    { name: 'anchored entry does not', branches: ['^main$'], ref: 'maintenance', want: false },
    { name: 'skip_branches excludes', skip: ['^main$'], ref: 'main', want: false },
    { name: 'skip_branches lets others run', skip: ['^main$'], ref: 'stable-3.2', want: true },
    { name: 'skip wins over branches', branches: ['stable-.*'], skip: ['stable-2\\..*'], ref: 'stable-2.0', want: false },
    { name: 'both lists, allowed', branches: ['stable-.*'], skip: ['stable-2\\..*'], ref: 'stable-3.0', want: true },
    { name: 'Go inline flag in a branch regex', branches: ['(?i)^MAIN$'], ref: 'main', want: true },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.equal(branchMatches(job('j', { branches: c.branches, skip_branches: c.skip }), c.ref), c.want);
    });
  }
});

describe('defaults: context, rerun command, trigger', () => {
  const cases: Array<{ name: string; job: Presubmit; context: string; rerun: string; trigger: string }> = [
    { name: 'all defaults', job: job('e2e-kata-qemu'), context: 'e2e-kata-qemu', rerun: '/test e2e-kata-qemu', trigger: '(?m)^/test( | .* )e2e-kata-qemu,?($|\\s.*)' },
    { name: 'dots in the name are escaped', job: job('e2e.kata'), context: 'e2e.kata', rerun: '/test e2e.kata', trigger: '(?m)^/test( | .* )e2e\\.kata,?($|\\s.*)' },
    { name: 'custom context, trigger, rerun', job: KATA[8] as Presubmit, context: 'kata-ci / nvidia-gpu', rerun: '/test-gpu', trigger: '(?m)^/test-gpu\\s*$' },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.equal(contextOf(c.job), c.context);
      assert.equal(rerunCommandOf(c.job), c.rerun);
      assert.equal(triggerSourceOf(c.job), c.trigger);
    });
  }
});

describe('default trigger (Prow DefaultTriggerFor): the regex and defaultTriggerWords agree', () => {
  const cases: Array<{ job: string; body: string; want: boolean }> = [
    { job: 'job', body: '/test job', want: true },
    { job: 'job', body: '/test job,', want: true },
    { job: 'job', body: '/test job ', want: true },
    { job: 'job', body: '/test job\nthanks', want: true },
    { job: 'job', body: '/test job\r\n', want: true },
    { job: 'job', body: '/test other job', want: true },
    { job: 'job', body: '/test other, job', want: true },
    { job: 'job', body: '/test job other', want: true },
    { job: 'job', body: '/test job, other', want: true },
    { job: 'job', body: '/test all job', want: true },
    { job: 'job', body: 'hi\n/test job', want: true },
    { job: 'job', body: '/test jobs', want: false },
    { job: 'job', body: '/test ajob', want: false },
    { job: 'job', body: '/test job-x', want: false },
    { job: 'job', body: '/test other,job', want: false },
    { job: 'job', body: '/testjob', want: false },
    { job: 'job', body: '/test\tjob', want: false },
    { job: 'job', body: ' /test job', want: false },
    { job: 'job', body: 'please /test job', want: false },
    { job: 'job', body: '/test all', want: false },
    { job: 'job', body: '/retest job', want: false },
    { job: 'job', body: '/test job\u00a0', want: false }, // NBSP is not Go whitespace
    { job: 'job', body: '/test \u00a0job', want: false },
    { job: 'e2e.kata', body: '/test e2e.kata', want: true },
    { job: 'e2e.kata', body: '/test e2eXkata', want: false }, // the dot is escaped
    { job: 'a+b', body: '/test a+b', want: true },
    { job: 'a+b', body: '/test aab', want: false },
  ];
  for (const c of cases) {
    it(`${c.job} vs ${JSON.stringify(c.body)} → ${c.want}`, () => {
      assert.equal(triggerOf(job(c.job)).test(c.body), c.want);
      assert.equal(selectForCommentText([job(c.job)], 'main', c.body).length, c.want ? 1 : 0);
    });
  }

  it('the default rerun command matches the default trigger (Prow validation)', () => {
    for (const name of ['e2e-kata-qemu', 'a.b', 'x_y-1']) assert.ok(triggerOf(job(name)).test(rerunCommandOf(job(name))));
  });

  it('a 200 KB line', () => {
    const body = '/test ' + 'x '.repeat(100_000) + 'job';
    assert.equal(triggerOf(job('job')).test(body), true);
    assert.equal(triggerOf(job('nope')).test(body), false);
    assert.deepEqual(names(selectForCommentText([job('job'), job('nope')], 'main', body)), ['job']);
  });
});

describe('defaultTriggerWords decides the default trigger exactly as the regex does', () => {
  // Texts built from the pieces that matter to the regex: line starts, blanks Go's \s has and has not (\v, NBSP),
  // commas, names and their look-alikes.
  const NAMES = ['a', 'ab', 'a.b', 'a-b', 'b_1'];
  const piece = fc.constantFrom('/test', '/test ', ' ', '  ', '\t', '\n', '\r', '\f', '\v', '\u00a0', ',', ',,', 'a', 'ab', 'a.b', 'aXb', 'a-b', 'b_1', 'all', 'x', '/retest');
  it('for 20,000 generated comments and every name', () => {
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 24 }).map((p) => p.join('')), (text) => {
        const words = defaultTriggerWords(text);
        for (const name of NAMES) assert.equal(words.has(name), triggerOf(job(name)).test(text), `${name} in ${JSON.stringify(text)}`);
      }),
      { numRuns: 20_000, seed: 20260822 },
    );
  });
});

describe('triggerOf (Prow default trigger semantics)', () => {
  const cases: Array<{ text: string; want: boolean }> = [
    { text: '/test e2e-kata-qemu', want: true },
    { text: '/test e2e-kata-clh e2e-kata-qemu', want: true },
    { text: '/test e2e-kata-qemu e2e-kata-clh', want: true },
    { text: '/test e2e-kata-qemu, e2e-kata-clh', want: true },
    { text: 'please\n/test e2e-kata-qemu\nthanks', want: true },
    { text: '/test e2e-kata-qemu-tdx', want: false },
    { text: '/test e2e-kata-qemuX', want: false },
    { text: 'please /test e2e-kata-qemu', want: false },
    { text: '/teste2e-kata-qemu', want: false },
    { text: '/retest', want: false },
    { text: '/test all', want: false },
  ];
  const re = triggerOf(job('e2e-kata-qemu'));
  for (const c of cases) {
    it(JSON.stringify(c.text), () => assert.equal(re.test(c.text), c.want));
  }
  it('escaped name: a dot only matches a dot', () => {
    const dotted = triggerOf(job('e2e.kata'));
    assert.equal(dotted.test('/test e2e.kata'), true);
    assert.equal(dotted.test('/test e2eXkata'), false);
  });
});

describe('needsExplicitTrigger / needsChangedFiles', () => {
  const cases: Array<{ job: Presubmit; explicit: boolean; files: boolean }> = [
    { job: job('a', { always_run: true }), explicit: false, files: false },
    { job: job('b', { run_if_changed: 'x' }), explicit: false, files: true },
    { job: job('c', { skip_if_only_changed: 'x' }), explicit: false, files: true },
    { job: job('d'), explicit: true, files: false },
    { job: job('e', { optional: true }), explicit: true, files: false },
  ];
  for (const c of cases) {
    it(c.job.name, () => {
      assert.equal(needsExplicitTrigger(c.job), c.explicit);
      assert.equal(needsChangedFiles([c.job]), c.files);
    });
  }
  it('any job with a change rule needs files', () => {
    assert.equal(needsChangedFiles(KATA), true);
    assert.equal(needsChangedFiles(KATA.filter((j) => !j.run_if_changed && !j.skip_if_only_changed)), false);
  });
});

describe('shouldRun (Prow Presubmit.ShouldRun)', () => {
  const cases: Array<{ name: string; job: Presubmit; ref?: string; files?: string[]; forced: boolean; defaults: boolean; want: boolean }> = [
    { name: 'branch mismatch beats always_run', job: job('a', { always_run: true, branches: ['main'] }), ref: 'stable-3.0', forced: false, defaults: false, want: false },
    { name: 'branch mismatch beats forced', job: job('a', { branches: ['main'] }), ref: 'stable-3.0', forced: true, defaults: true, want: false },
    { name: 'always_run', job: job('a', { always_run: true }), forced: false, defaults: false, want: true },
    { name: 'forced ignores run_if_changed', job: job('a', { run_if_changed: '^src/' }), files: ['docs/x.md'], forced: true, defaults: false, want: true },
    { name: 'run_if_changed matches one file', job: job('a', { run_if_changed: '^src/' }), files: ['docs/x.md', 'src/a.go'], forced: false, defaults: false, want: true },
    { name: 'run_if_changed matches none', job: job('a', { run_if_changed: '^src/' }), files: ['docs/x.md'], forced: false, defaults: false, want: false },
    { name: 'run_if_changed none but default true', job: job('a', { run_if_changed: '^src/' }), files: ['docs/x.md'], forced: false, defaults: true, want: true },
    { name: 'skip_if_only_changed: all match → skip', job: job('a', { skip_if_only_changed: '^docs/|\\.md$' }), files: ['docs/a', 'README.md'], forced: false, defaults: false, want: false },
    { name: 'skip_if_only_changed: one other → run', job: job('a', { skip_if_only_changed: '^docs/|\\.md$' }), files: ['docs/a', 'src/x.rs'], forced: false, defaults: false, want: true },
    { name: 'skip_if_only_changed: no files → skip', job: job('a', { skip_if_only_changed: '^docs/' }), files: [], forced: false, defaults: false, want: false },
    { name: 'manual job, not forced', job: job('a'), forced: false, defaults: false, want: false },
    { name: 'manual job, defaults true', job: job('a'), forced: false, defaults: true, want: true },
  ];
  for (const c of cases) {
    it(c.name, () => assert.equal(shouldRun(c.job, c.ref ?? 'main', c.files ?? [], c.forced, c.defaults), c.want));
  }
  it('throws when a change rule must decide and files were not fetched', () => {
    assert.throws(() => shouldRun(job('a', { run_if_changed: 'x' }), 'main', undefined, false, false), /changed files are needed/);
  });
  it('does not need files when forced', () => {
    assert.equal(shouldRun(job('a', { run_if_changed: 'x' }), 'main', undefined, true, true), true);
  });
});

describe('selectForTestAll (/test all, /ok-to-test, pushes)', () => {
  const cases: Array<{ name: string; ref: string; files: string[]; want: string[] }> = [
    {
      name: 'source change on main',
      ref: 'main',
      files: ['src/runtime/virtcontainers/qemu.go'],
      want: ['e2e-kata-clh', 'e2e-kata-coco', 'e2e-kata-qemu', 'e2e-kata-qemu-tdx', 'static-checks'],
    },
    { name: 'docs-only change on main', ref: 'main', files: ['docs/install/README.md'], want: ['docs-spellcheck', 'e2e-kata-clh', 'e2e-kata-coco', 'e2e-kata-qemu'] },
    {
      name: 'stable branch: branch-limited jobs swap',
      ref: 'stable-3.2',
      files: ['src/agent/src/main.rs'],
      want: ['e2e-kata-clh', 'e2e-kata-qemu', 'e2e-kata-qemu-tdx', 'e2e-kata-stable', 'static-checks'],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const got = selectForTestAll(KATA, c.ref, c.files);
      assert.deepEqual(names(got), c.want);
      assert.ok(got.every((s) => !s.forced));
    });
  }
  it('never selects manual-only jobs', () => {
    const got = names(selectForTestAll(KATA, 'main', ['src/runtime/x.go', 'docs/y.md']));
    assert.ok(!got.includes('e2e-kata-qemu-snp'));
    assert.ok(!got.includes('e2e-kata-nvidia-gpu'));
  });
});

describe('selectForCommentText (/test <job>)', () => {
  const cases: Array<{ name: string; text: string; ref?: string; want: string[] }> = [
    { name: 'one job', text: '/test e2e-kata-qemu', want: ['e2e-kata-qemu'] },
    { name: 'forced run_if_changed job', text: '/test e2e-kata-qemu-tdx', want: ['e2e-kata-qemu-tdx'] },
    { name: 'manual job', text: '/test e2e-kata-qemu-snp', want: ['e2e-kata-qemu-snp'] },
    { name: 'several jobs on a line', text: '/test e2e-kata-clh e2e-kata-qemu-snp', want: ['e2e-kata-clh', 'e2e-kata-qemu-snp'] },
    { name: 'several lines', text: '/test e2e-kata-clh\n/test static-checks', want: ['e2e-kata-clh', 'static-checks'] },
    { name: 'branch still applies', text: '/test e2e-kata-coco', ref: 'stable-3.2', want: [] },
    { name: 'custom trigger', text: '/test-gpu', want: ['e2e-kata-nvidia-gpu'] },
    { name: 'custom trigger job is not matched by /test <name>', text: '/test e2e-kata-nvidia-gpu', want: [] },
    { name: 'unknown job', text: '/test e2e-kata-qemuu', want: [] },
    { name: 'not at line start', text: 'could you /test e2e-kata-qemu', want: [] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const got = selectForCommentText(KATA, c.ref ?? 'main', c.text, undefined);
      assert.deepEqual(names(got), c.want);
      assert.ok(got.every((s) => s.forced || s.presubmit.always_run));
    });
  }
});

describe('selectForRetest (/retest, /retest-required)', () => {
  const files = ['src/runtime/x.go'];
  const cases: Array<{ name: string; results: Record<string, string>; files?: string[]; requiredOnly?: boolean; want: string[] }> = [
    {
      name: 'failed and errored rerun; success and pending do not; never-run automatic jobs run conditionally',
      results: { 'e2e-kata-qemu': 'failure', 'e2e-kata-clh': 'success', 'static-checks': 'error', 'e2e-kata-coco': 'pending' },
      want: ['e2e-kata-qemu', 'e2e-kata-qemu-tdx', 'static-checks'],
    },
    {
      name: 'a failed run_if_changed job reruns even when its files no longer match (and a never-run one whose files match runs)',
      results: { 'e2e-kata-qemu-tdx': 'failure', 'e2e-kata-qemu': 'success', 'e2e-kata-clh': 'success', 'e2e-kata-coco': 'success', 'static-checks': 'success' },
      files: ['docs/x.md'],
      want: ['docs-spellcheck', 'e2e-kata-qemu-tdx'],
    },
    {
      name: 'a failed manual job reruns',
      results: { 'e2e-kata-qemu-snp': 'failure', 'e2e-kata-qemu': 'success', 'e2e-kata-clh': 'success', 'e2e-kata-coco': 'success', 'static-checks': 'success', 'e2e-kata-qemu-tdx': 'success' },
      want: ['e2e-kata-qemu-snp'],
    },
    {
      name: 'the custom context is what counts',
      results: { 'kata-ci / nvidia-gpu': 'failure', 'e2e-kata-nvidia-gpu': 'success', 'e2e-kata-qemu': 'success', 'e2e-kata-clh': 'success', 'e2e-kata-coco': 'success', 'static-checks': 'success', 'e2e-kata-qemu-tdx': 'success' },
      want: ['e2e-kata-nvidia-gpu'],
    },
    {
      name: 'check-run conclusions timed_out and cancelled count as failed',
      results: { 'e2e-kata-qemu': 'timed_out', 'e2e-kata-clh': 'cancelled', 'e2e-kata-coco': 'neutral', 'static-checks': 'skipped', 'e2e-kata-qemu-tdx': 'success' },
      want: ['e2e-kata-clh', 'e2e-kata-qemu'],
    },
    {
      name: 'retest-required skips optional failures',
      results: { 'e2e-kata-qemu-snp': 'failure', 'e2e-kata-coco': 'failure', 'e2e-kata-qemu': 'failure', 'e2e-kata-clh': 'success', 'static-checks': 'success', 'e2e-kata-qemu-tdx': 'success' },
      requiredOnly: true,
      want: ['e2e-kata-qemu'],
    },
    {
      name: 'nothing failed, everything ran: nothing to do',
      results: { 'e2e-kata-qemu': 'success', 'e2e-kata-clh': 'success', 'e2e-kata-coco': 'success', 'static-checks': 'success', 'e2e-kata-qemu-tdx': 'success' },
      want: [],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const got = selectForRetest(KATA, 'main', c.files ?? files, new Map(Object.entries(c.results)), { requiredOnly: c.requiredOnly });
      assert.deepEqual(names(got), c.want);
      assert.ok(got.every((s) => !s.forced));
    });
  }
  it('isFailedResult', () => {
    for (const r of ['failure', 'error', 'timed_out', 'cancelled', 'startup_failure']) assert.equal(isFailedResult(r), true, r);
    for (const r of ['success', 'pending', 'neutral', 'skipped', 'action_required', 'queued']) assert.equal(isFailedResult(r), false, r);
  });
});

describe('unknownTargets', () => {
  const cases: Array<{ name: string; targets: string[]; ref?: string; unknown: string[]; suggestions?: Record<string, string[]> }> = [
    { name: 'all known', targets: ['e2e-kata-qemu', 'static-checks'], unknown: [] },
    { name: 'typo', targets: ['e2e-kata-qemuu'], unknown: ['e2e-kata-qemuu'], suggestions: { 'e2e-kata-qemuu': ['e2e-kata-qemu', 'e2e-kata-qemu-snp', 'e2e-kata-qemu-tdx'] } },
    { name: 'prefix', targets: ['e2e-kata'], unknown: ['e2e-kata'], suggestions: { 'e2e-kata': ['e2e-kata-clh', 'e2e-kata-coco', 'e2e-kata-qemu'] } },
    { name: 'substring', targets: ['tdx'], unknown: ['tdx'], suggestions: { tdx: ['e2e-kata-qemu-tdx'] } },
    { name: 'nothing close', targets: ['frobnicate'], unknown: ['frobnicate'], suggestions: { frobnicate: [] } },
    { name: 'a job of another branch is unknown here', targets: ['e2e-kata-coco'], ref: 'stable-3.2', unknown: ['e2e-kata-coco'], suggestions: { 'e2e-kata-coco': ['e2e-kata-clh', 'e2e-kata-qemu'] } },
    { name: 'duplicates reported once', targets: ['nope', 'nope'], unknown: ['nope'] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const got = unknownTargets(c.targets, KATA, c.ref ?? 'main');
      assert.deepEqual(got.unknown, c.unknown);
      if (c.suggestions) assert.deepEqual(got.suggestions, c.suggestions);
    });
  }
  it('closestNames is case-insensitive and capped', () => {
    assert.deepEqual(closestNames('E2E-KATA-CLH', ['e2e-kata-clh', 'x']), ['e2e-kata-clh']);
    assert.equal(closestNames('e', ['e1', 'e2', 'e3', 'e4']).length, 3);
  });
  it('a long target gets the names it contains; one longer than any job name gets none', () => {
    const names = KATA.map((p) => p.name);
    assert.deepEqual(closestNames('e2e-kata-qemu' + 'x'.repeat(200), names), ['e2e-kata-qemu']);
    assert.deepEqual(closestNames('e2e-kata-qemu' + 'x'.repeat(65536), names), []);
  });
  it('only the unknown targets the reply lists get suggestions', () => {
    assert.equal(SUGGESTED_TARGETS, MAX_UNKNOWN_LISTED);
    const targets = Array.from({ length: 30 }, (_, i) => `e2e-kata-qemu-${i}`);
    const got = unknownTargets(targets, KATA, 'main');
    assert.equal(got.unknown.length, 30);
    assert.deepEqual(Object.keys(got.suggestions), targets.slice(0, SUGGESTED_TARGETS));
    assert.equal(got.suggestions['e2e-kata-qemu-0']?.[0], 'e2e-kata-qemu');
  });
  it('skipping hopeless edit distances changes no answer (against computing every distance)', () => {
    // The plain rule: prefix, then substring, then Levenshtein within the limit; nearer first, then by name.
    const plain = (target: string, names: readonly string[]): string[] => {
      const t = target.toLowerCase();
      const limit = Math.max(2, Math.floor(t.length / 3));
      return names
        .map((name) => {
          const n = name.toLowerCase();
          const d = distance(t, n);
          const rank = t.length > 0 && n.startsWith(t) ? 0 : (t.length >= 3 && n.includes(t)) || (n.length >= 3 && t.includes(n)) ? 1 : d <= limit ? 2 : 3;
          return { name, rank, d };
        })
        .filter((x) => x.rank < 3)
        .sort((a, b) => a.rank - b.rank || a.d - b.d || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
        .slice(0, 3)
        .map((x) => x.name);
    };
    const word = fc.array(fc.constantFrom('e2e', '-', 'kata', 'qemu', 'q', 'x', 'E', 'tdx'), { maxLength: 8 }).map((p) => p.join(''));
    fc.assert(fc.property(word, fc.array(word, { maxLength: 12 }), (target, names) => assert.deepEqual(closestNames(target, names), plain(target, names))), { numRuns: 5000, seed: 20260822 });
  });
});

describe('MAX_TARGETS bounds the replies, not the jobs', () => {
  const many = Array.from({ length: MAX_TARGETS + 10 }, (_, i) => job(`e2e-job-${i}`));
  const body = '/test ' + many.map((p) => p.name).join(' ') + ' e2e-jb-1';
  it('every named job runs, also those past the cap', () => {
    assert.equal(selectForCommentText(many, 'main', body).length, many.length);
  });
  it('only the first MAX_TARGETS targets are checked for typos', () => {
    const [cmd] = parseCommands(body);
    assert.ok(cmd?.name === 'test');
    assert.equal(cmd.targets.length, MAX_TARGETS);
    assert.deepEqual(unknownTargets(cmd.targets, many, 'main').unknown, []);
  });
});

describe('jobLists (/test ? help)', () => {
  it('main, with changed files', () => {
    assert.deepEqual(jobLists(KATA, 'main', ['docs/a.md']), {
      required: ['e2e-kata-clh', 'e2e-kata-qemu', 'e2e-kata-qemu-tdx', 'static-checks'],
      optional: ['docs-spellcheck', 'e2e-kata-coco', 'e2e-kata-nvidia-gpu', 'e2e-kata-qemu-snp'],
      automatic: ['docs-spellcheck', 'e2e-kata-clh', 'e2e-kata-coco', 'e2e-kata-qemu'],
    });
  });
  it('stable branch, without changed files: every automatic job that could run', () => {
    assert.deepEqual(jobLists(KATA, 'stable-3.2'), {
      required: ['e2e-kata-clh', 'e2e-kata-qemu', 'e2e-kata-qemu-tdx', 'e2e-kata-stable', 'static-checks'],
      optional: ['docs-spellcheck', 'e2e-kata-nvidia-gpu', 'e2e-kata-qemu-snp'],
      automatic: ['docs-spellcheck', 'e2e-kata-clh', 'e2e-kata-qemu', 'e2e-kata-qemu-tdx', 'e2e-kata-stable', 'static-checks'],
    });
  });
});

describe('presubmitsFor', () => {
  const jobs: JobConfig = { presubmits: { 'kata-containers/kata-containers': KATA }, postsubmits: {}, periodics: [] };
  it('known repo', () => assert.equal(presubmitsFor(jobs, 'kata-containers', 'kata-containers').length, KATA.length));
  it('unknown repo', () => assert.deepEqual(presubmitsFor(jobs, 'kata-containers', 'tests'), []));
});
