import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ProwJob, ProwJobState } from '../../../src/jobs/types.ts';
import { utf8Length } from '../../../src/render/check-run.ts';
import {
  BASE_SHA_DELIMITER,
  baseShaFromContextDescription,
  commitStatusFor,
  contextDescriptionWithBaseSha,
  githubStatusState,
  truncateMiddle,
} from '../../../src/render/status.ts';

const BASE = 'b'.repeat(40);
const PAD = '\u2001';
const suffix = BASE_SHA_DELIMITER + BASE; // 49 bytes

describe('githubStatusState (crier prowjobStateToGitHubStatus)', () => {
  const cases: Array<[ProwJobState, string]> = [
    ['scheduling', 'pending'],
    ['triggered', 'pending'],
    ['pending', 'pending'],
    ['success', 'success'],
    ['failure', 'failure'],
    ['aborted', 'failure'],
    ['error', 'error'],
  ];
  for (const [state, want] of cases) it(`${state} → ${want}`, () => assert.equal(githubStatusState(state), want));
});

describe('contextDescriptionWithBaseSha (Prow config.ContextDescriptionWithBaseSha, byte for byte)', () => {
  // Prow's padding loop re-evaluates 140 − len(text + suffix) as each 3-byte U+2001 is added, so it adds
  // ⌈(140 − len)/4⌉ pads; lengths are Go's len(), in UTF-8 bytes.
  const cases: Array<{ name: string; human: string; base: string; want: string }> = [
    { name: 'plank’s "Job succeeded.": 20 pads', human: 'Job succeeded.', base: BASE, want: 'Job succeeded.' + PAD.repeat(20) + suffix },
    { name: 'empty description: 23 pads', human: '', base: BASE, want: PAD.repeat(23) + suffix },
    { name: 'exactly 140 bytes: no pad, no cut', human: 'z'.repeat(91), base: BASE, want: 'z'.repeat(91) + suffix },
    { name: '139 bytes: one pad, then the text is cut to fit', human: 'z'.repeat(90), base: BASE, want: 'z'.repeat(41) + ' ... ' + 'z'.repeat(41) + PAD + suffix },
    { name: 'long text: cut in the middle with " ... "', human: 'y'.repeat(100), base: BASE, want: 'y'.repeat(43) + ' ... ' + 'y'.repeat(43) + suffix },
    { name: 'no base SHA: no suffix, cut at 140', human: 'x'.repeat(200), base: '', want: 'x'.repeat(67) + ' ... ' + 'x'.repeat(67) },
    { name: 'no base SHA, short: unchanged', human: 'Job triggered.', base: '', want: 'Job triggered.' },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const got = contextDescriptionWithBaseSha(c.human, c.base);
      assert.equal(got, c.want);
      assert.ok(utf8Length(got) <= 142, 'within GitHub’s limit as Prow sends it');
      if (c.base) assert.equal(baseShaFromContextDescription(got), c.base, 'tide reads the base SHA back');
    });
  }

  it('multi-byte text is cut on character boundaries', () => {
    const got = truncateMiddle('€'.repeat(100), 20);
    assert.ok(utf8Length(got) <= 20);
    assert.doesNotMatch(got, /\uFFFD/);
  });

  it('BaseSHAFromContextDescription ignores malformed suffixes and reads the deprecated spelling', () => {
    assert.equal(baseShaFromContextDescription('x BaseSHA:abc'), '');
    assert.equal(baseShaFromContextDescription(`x Basesha:${BASE}`), BASE);
  });
});

describe('commitStatusFor (crier reportStatus)', () => {
  const pj = (state: ProwJobState, extra: Partial<ProwJob['spec']> = {}): ProwJob => ({
    apiVersion: 'prow.k8s.io/v1',
    kind: 'ProwJob',
    metadata: { name: 'x' },
    spec: { type: 'presubmit', job: 'job-a', context: 'ctx-a', report: true, refs: { org: 'o', repo: 'r', base_sha: BASE, pulls: [{ number: 1, author: 'a', sha: 'c'.repeat(40) }] }, ...extra },
    status: { state, description: 'Job failed.', url: 'https://deck/view/1' },
  });

  it('presubmit: the PR head, the context, status.url, the BaseSHA description', () => {
    assert.deepEqual(commitStatusFor(pj('failure')), {
      sha: 'c'.repeat(40),
      state: 'failure',
      description: contextDescriptionWithBaseSha('Job failed.', BASE),
      context: 'ctx-a',
      target_url: 'https://deck/view/1',
    });
  });

  it('postsubmit: the base SHA', () => {
    const s = commitStatusFor(pj('success', { type: 'postsubmit', refs: { org: 'o', repo: 'r', base_sha: BASE } }));
    assert.equal(s.sha, BASE);
    assert.equal(s.state, 'success');
  });
});
