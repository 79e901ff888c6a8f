// GitHub.inRepoConfigFiles: Prow's in-repo config read at a ref through the contents API (GitHub intercepted at
// HTTP by nock): `.prow/` wins over `.prow.yaml`, `.prowignore` applies, nothing when neither exists.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import nock from 'nock';
import { ProbotOctokit } from 'probot';
import { GitHub } from '../../src/adapters/github.ts';
import { parseInRepoConfig } from '../../src/config/in-repo.ts';

const API = 'https://api.github.com';
const REF = '5c7d4ea3f2b1e0d9c8b7a6f5e4d3c2b1a0f9e8d7';
const file = (path: string, text: string) => ({ type: 'file', name: path.split('/').pop(), path, encoding: 'base64', content: Buffer.from(text).toString('base64') });
const entry = (type: 'file' | 'dir', path: string) => ({ type, name: path.split('/').pop(), path });
const JOB = (name: string): string => `presubmits:\n- name: ${name}\n  always_run: true\n  spec:\n    containers:\n    - image: alpine\n      args: [.]\n`;

function github(): GitHub {
  const octokit = new ProbotOctokit({ auth: { token: 'test' }, retry: { enabled: false }, throttle: { enabled: false } });
  return new GitHub(octokit as never, 'kata-containers', 'tests');
}

describe('GitHub.inRepoConfigFiles', () => {
  before(() => nock.disableNetConnect());
  afterEach(() => {
    assert.ok(nock.isDone(), `unused GitHub mocks: ${nock.pendingMocks().join(', ')}`);
    nock.cleanAll();
  });
  after(() => nock.enableNetConnect());

  it('reads .prow/ recursively in path order, minus .prowignore, and never .prow.yaml', async () => {
    const repo = nock(API).persist(false);
    repo.get('/repos/kata-containers/tests/contents/.prow').query({ ref: REF }).reply(200, [entry('file', '.prow/z.yaml'), entry('dir', '.prow/sub'), entry('file', '.prow/README.md'), entry('dir', '.prow/drafts')]);
    repo.get('/repos/kata-containers/tests/contents/.prow%2Fsub').query({ ref: REF }).reply(200, [entry('file', '.prow/sub/b.yml')]);
    repo.get('/repos/kata-containers/tests/contents/.prow%2Fdrafts').query({ ref: REF }).reply(200, [entry('file', '.prow/drafts/wip.yaml')]);
    repo.get('/repos/kata-containers/tests/contents/.prowignore').query({ ref: REF }).reply(200, file('.prowignore', '# work in progress\ndrafts/\n'));
    repo.get('/repos/kata-containers/tests/contents/.prow%2Fsub%2Fb.yml').query({ ref: REF }).reply(200, file('.prow/sub/b.yml', JOB('b')));
    repo.get('/repos/kata-containers/tests/contents/.prow%2Fz.yaml').query({ ref: REF }).reply(200, file('.prow/z.yaml', JOB('z')));
    const files = await github().inRepoConfigFiles(REF);
    assert.deepEqual(files.map((f) => f.path), ['.prow/sub/b.yml', '.prow/z.yaml']);
    const jobs = parseInRepoConfig(files, { prow: { in_repo_config: { enabled: { 'kata-containers': true } } }, jobs: { presubmits: {}, postsubmits: {}, periodics: [] }, org: 'kata-containers', repo: 'tests' });
    assert.deepEqual(jobs.presubmits.map((p) => p.name), ['b', 'z']);
    assert.deepEqual(jobs.presubmits[0]?.spec?.containers[0]?.args, ['.']);
  });

  it('without .prow/, reads .prow.yaml', async () => {
    nock(API).get('/repos/kata-containers/tests/contents/.prow').query({ ref: REF }).reply(404, { message: 'Not Found' });
    nock(API).get('/repos/kata-containers/tests/contents/.prow.yaml').query({ ref: REF }).reply(200, file('.prow.yaml', JOB('only')));
    assert.deepEqual(await github().inRepoConfigFiles(REF), [{ path: '.prow.yaml', text: JOB('only') }]);
  });

  it('neither: no files', async () => {
    nock(API).get('/repos/kata-containers/tests/contents/.prow').query({ ref: REF }).reply(404, { message: 'Not Found' });
    nock(API).get('/repos/kata-containers/tests/contents/.prow.yaml').query({ ref: REF }).reply(404, { message: 'Not Found' });
    assert.deepEqual(await github().inRepoConfigFiles(REF), []);
  });

  it('other errors are not swallowed', async () => {
    nock(API).get('/repos/kata-containers/tests/contents/.prow').query({ ref: REF }).reply(500, { message: 'boom' });
    await assert.rejects(github().inRepoConfigFiles(REF), (e: unknown) => (e as { status?: number }).status === 500);
  });
});
