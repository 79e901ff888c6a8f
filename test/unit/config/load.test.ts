// Loading config files and reloading them when they change on disk.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { pino, type Logger } from 'pino';
import { ConfigError } from '../../../src/config/errors.ts';
import { ConfigSource, listJobConfigFiles, loadConfigSnapshot, type ConfigSnapshot } from '../../../src/config/load.ts';
import { DEFAULT_KATABOT_CONFIG } from '../../../src/config/types.ts';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'jobs');
const temps: string[] = [];
after(async () => {
  for (const t of temps) await rm(t, { recursive: true, force: true });
});
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'katabot-config-'));
  temps.push(d);
  return d;
}

function capturingLogger(): { log: Logger; lines: Array<{ level: number; msg: string }> } {
  const lines: Array<{ level: number; msg: string }> = [];
  const log = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s) as { level: number; msg: string }) });
  return { log, lines };
}

const job = (name: string): string => `presubmits:\n  kata-containers/kata-containers:\n  - name: ${name}\n    always_run: true\n    spec:\n      containers:\n      - image: x\n`;
const names = (s: ConfigSnapshot): string[] => (s.jobs.presubmits['kata-containers/kata-containers'] ?? []).map((p) => p.name);

describe('loadConfigSnapshot', () => {
  it('loads the Kata fixture: a nested job dir, Prow config and katabot config', async () => {
    const s = await loadConfigSnapshot({ PROW_CONFIG: join(FIXTURES, 'prow-config.yaml'), JOB_CONFIG: join(FIXTURES, 'job-config'), KATABOT_CONFIG: join(FIXTURES, 'katabot.yaml') });
    assert.equal(s.katabot.deck_url, 'https://prow.katacontainers.example');
    assert.equal(s.prow.pod_namespace, 'test-pods');
    assert.ok(names(s).includes('e2e-kata-qemu') && names(s).includes('e2e-kata-qemu-tdx'));
    assert.equal(s.jobs.postsubmits['kata-containers/kata-containers']?.length, 2);
    assert.equal(s.jobs.periodics.length, 2);
    assert.equal(s.sources.length, 7);
    assert.ok(s.sources.every((p) => p.endsWith('.yaml')));
  });
  it('unset variables: defaults and no jobs', async () => {
    assert.deepEqual(await loadConfigSnapshot({}), { katabot: DEFAULT_KATABOT_CONFIG, prow: {}, jobs: { presubmits: {}, postsubmits: {}, periodics: [] }, sources: [] });
  });
  it('JOB_CONFIG may be a single file', async () => {
    const d = await tempDir();
    await writeFile(join(d, 'jobs.yaml'), job('only'));
    assert.deepEqual(names(await loadConfigSnapshot({ JOB_CONFIG: join(d, 'jobs.yaml') })), ['only']);
  });
  it('jobs in Prow config.yaml count too, and decorate_all_jobs from job files reaches the Prow config', async () => {
    const d = await tempDir();
    await writeFile(join(d, 'config.yaml'), `pod_namespace: test-pods\n${job('in-config')}`);
    await mkdir(join(d, 'jobs'));
    await writeFile(join(d, 'jobs', 'more.yml'), 'decorate_all_jobs: true\n');
    const s = await loadConfigSnapshot({ PROW_CONFIG: join(d, 'config.yaml'), JOB_CONFIG: join(d, 'jobs') });
    assert.deepEqual(names(s), ['in-config']);
    assert.equal(s.prow.decorate_all_jobs, true);
  });
  it('a missing file is a one-line ConfigError', async () => {
    await assert.rejects(loadConfigSnapshot({ KATABOT_CONFIG: '/nonexistent/katabot.yaml' }), (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.equal(e.message, '/nonexistent/katabot.yaml: cannot read: no such file or directory');
      return true;
    });
  });
  it('an invalid job file names itself', async () => {
    const d = await tempDir();
    await mkdir(join(d, 'a', 'b'), { recursive: true });
    await writeFile(join(d, 'a', 'b', 'bad.yaml'), job('bad name'));
    await assert.rejects(loadConfigSnapshot({ JOB_CONFIG: d }), {
      message: `${join(d, 'a', 'b', 'bad.yaml')}: line 3, column 11: presubmits.kata-containers/kata-containers[0].name: "bad name" must match ^[A-Za-z0-9-._]+$`,
    });
  });
});

describe('listJobConfigFiles', () => {
  it('walks nested dirs, keeps .yaml/.yml, sorts, and skips ConfigMap ..data entries', async () => {
    const d = await tempDir();
    // A Kubernetes ConfigMap volume: real files in ..<timestamp>, ..data → it, and top-level symlinks.
    await mkdir(join(d, '..2026_01_01_00_00_00.000000001'));
    await writeFile(join(d, '..2026_01_01_00_00_00.000000001', 'presubmits.yaml'), job('cm'));
    await symlink('..2026_01_01_00_00_00.000000001', join(d, '..data'));
    await symlink(join('..data', 'presubmits.yaml'), join(d, 'presubmits.yaml'));
    await mkdir(join(d, 'z', 'y'), { recursive: true });
    await writeFile(join(d, 'z', 'y', 'deep.yml'), '');
    await writeFile(join(d, 'README.md'), '# not config');
    await symlink('z', join(d, 'loop-to-z'));
    const files = await listJobConfigFiles(d);
    assert.deepEqual(files.map((f) => f.slice(d.length + 1)), ['loop-to-z/y/deep.yml', 'presubmits.yaml']);
    assert.deepEqual(names(await loadConfigSnapshot({ JOB_CONFIG: d })), ['cm']);
  });
});

/** Resolves with the next applied snapshot, or rejects after `ms`. */
function nextChange(source: ConfigSource, ms = 5000): Promise<ConfigSnapshot> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error('no config change seen'));
    }, ms);
    const off = source.onChange((s) => {
      clearTimeout(timer);
      off();
      resolve(s);
    });
  });
}

describe('ConfigSource', () => {
  it('start() throws the one-line ConfigError when there is no good config', async () => {
    const d = await tempDir();
    await writeFile(join(d, 'katabot.yaml'), 'tdx:\n  approvers: alice\n');
    const source = new ConfigSource({ KATABOT_CONFIG: join(d, 'katabot.yaml') }, capturingLogger().log, { watch: false });
    await assert.rejects(source.start(), { name: 'ConfigError', message: `${join(d, 'katabot.yaml')}: tdx.approvers: must be an array of strings` });
    assert.throws(() => source.current(), /before start/);
  });

  it('reloads on change, keeps the last good config on a bad change, and recovers', async () => {
    const d = await tempDir();
    const katabotFile = join(d, 'katabot.yaml');
    const jobsDir = join(d, 'jobs');
    await mkdir(join(jobsDir, 'kata-containers'), { recursive: true });
    await writeFile(katabotFile, 'tdx:\n  approvers: [alice]\n');
    await writeFile(join(jobsDir, 'kata-containers', 'a.yaml'), job('e2e-kata-qemu'));
    const { log, lines } = capturingLogger();
    const source = new ConfigSource({ KATABOT_CONFIG: katabotFile, JOB_CONFIG: jobsDir }, log, { debounceMs: 50 });
    try {
      const first = await source.start();
      assert.deepEqual(first.katabot.tdx.approvers, ['alice']);

      // 1. a good change to the katabot file is picked up
      let changed = nextChange(source);
      await writeFile(katabotFile, 'tdx:\n  approvers: [alice, bob]\n');
      assert.deepEqual((await changed).katabot.tdx.approvers, ['alice', 'bob']);
      assert.deepEqual(source.current().katabot.tdx.approvers, ['alice', 'bob']);

      // 2. a job file replaced atomically (write + rename, as editors and kubelet do) in a nested dir
      changed = nextChange(source);
      await writeFile(join(jobsDir, 'kata-containers', '.a.yaml.tmp'), job('e2e-kata-clh'));
      await rename(join(jobsDir, 'kata-containers', '.a.yaml.tmp'), join(jobsDir, 'kata-containers', 'a.yaml'));
      assert.deepEqual(names(await changed), ['e2e-kata-clh']);

      // 3. a bad change: logged as one line, the last good config stays
      const errorsBefore = lines.filter((l) => l.level >= 50).length;
      await writeFile(katabotFile, 'tdx:\n  approvers: bob\n');
      const deadline = Date.now() + 5000;
      while (lines.filter((l) => l.level >= 50).length === errorsBefore && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      const error = lines.filter((l) => l.level >= 50).at(-1);
      assert.ok(error, 'an error was logged');
      assert.equal(error.msg, `config not reloaded, keeping the last good one: ${katabotFile}: tdx.approvers: must be an array of strings`);
      assert.ok(!error.msg.includes('\n'));
      assert.deepEqual(source.current().katabot.tdx.approvers, ['alice', 'bob']);
      assert.deepEqual(names(source.current()), ['e2e-kata-clh']);

      // 4. reload() reports it too, without changing anything
      const rejected = await source.reload();
      assert.equal(rejected.status, 'rejected');
      assert.equal(rejected.status === 'rejected' && rejected.error.keyPath, 'tdx.approvers');

      // 5. fixing the file recovers; a new file in a new subdirectory is picked up as well
      changed = nextChange(source);
      await writeFile(katabotFile, 'tdx:\n  approvers: [carol]\n');
      assert.deepEqual((await changed).katabot.tdx.approvers, ['carol']);
      changed = nextChange(source);
      await mkdir(join(jobsDir, 'kata-containers', 'tdx'));
      await writeFile(join(jobsDir, 'kata-containers', 'tdx', 'b.yaml'), job('e2e-kata-qemu-tdx'));
      assert.deepEqual(names(await changed), ['e2e-kata-clh', 'e2e-kata-qemu-tdx']);

      // 6. nothing changed: unchanged
      assert.equal((await source.reload()).status, 'unchanged');
    } finally {
      source.close();
    }
  });

  it('reload() without watching applies changes and serialises concurrent calls', async () => {
    const d = await tempDir();
    const file = join(d, 'jobs.yaml');
    await writeFile(file, job('one'));
    const source = new ConfigSource({ JOB_CONFIG: file }, capturingLogger().log, { watch: false });
    await source.start();
    await writeFile(file, job('two'));
    const results = await Promise.all([source.reload(), source.reload()]);
    assert.deepEqual(results.map((r) => r.status), ['applied', 'unchanged']);
    assert.deepEqual(names(source.current()), ['two']);
    source.close();
  });
});

const settle = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Waits until `cond()` or fails after `ms`. */
async function until(cond: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await settle(20);
  }
}

describe('ConfigSource: reloads that cost what changed', () => {
  it('a log file written next to KATABOT_CONFIG, or a README in the job tree, causes no reload', async () => {
    const d = await tempDir();
    await mkdir(join(d, 'jobs'));
    await writeFile(join(d, 'katabot.yaml'), 'tdx:\n  approvers: [alice]\n');
    await writeFile(join(d, 'jobs', 'a.yaml'), job('one'));
    const source = new ConfigSource({ KATABOT_CONFIG: join(d, 'katabot.yaml'), JOB_CONFIG: join(d, 'jobs') }, capturingLogger().log, { debounceMs: 30 });
    try {
      await source.start();
      for (let i = 0; i < 20; i++) {
        await writeFile(join(d, 'katabot.log'), `line ${i}\n`, { flag: 'a' });
        await writeFile(join(d, 'jobs', 'README.md'), `# notes ${i}\n`);
        await settle(15);
      }
      await settle(150);
      assert.equal(source.stats().reloads, 0, 'no reload for files that are not config');
      // Control: the config file itself does reload.
      await writeFile(join(d, 'katabot.yaml'), 'tdx:\n  approvers: [bob]\n');
      await until(() => source.current().katabot.tdx.approvers[0] === 'bob', 5000, 'the katabot.yaml change');
      assert.equal(source.stats().reloads, 1);
    } finally {
      source.close();
    }
  });

  it('parses only the changed job file; presets from other files still apply to it; a preset change rebuilds the files using it', async () => {
    const d = await tempDir();
    const presets = (value: string): string => `presets:\n- labels: {preset-kvm: "true"}\n  env: [{name: KVM, value: ${value}}]\n`;
    const withPreset = (name: string): string => job(name).replace('    always_run: true\n', '    always_run: true\n    labels: {preset-kvm: "true"}\n');
    await writeFile(join(d, 'presets.yaml'), presets('1'));
    for (const n of ['a', 'b', 'c', 'd']) await writeFile(join(d, `${n}.yaml`), withPreset(`job-${n}`).replace('kata-containers/kata-containers', `kata-containers/${n}`));
    const source = new ConfigSource({ JOB_CONFIG: d }, capturingLogger().log, { watch: false });
    try {
      const first = await source.start();
      // presets.yaml is parsed first to learn the presets (its own jobs take none), then each job file once.
      assert.equal(source.stats().last?.parsed, 5);
      assert.deepEqual(first.jobs.presubmits['kata-containers/a']?.[0]?.spec?.containers[0]?.env, [{ name: 'KVM', value: '1' }]);

      await writeFile(join(d, 'b.yaml'), withPreset('job-b2').replace('kata-containers/kata-containers', 'kata-containers/b'));
      const one = await source.reload();
      assert.equal(one.status, 'applied');
      assert.equal(one.status === 'applied' && one.stats.parsed, 1, 'only b.yaml was parsed again');
      assert.deepEqual(one.snapshot.jobs.presubmits['kata-containers/b']?.[0]?.spec?.containers[0]?.env, [{ name: 'KVM', value: '1' }], "presets.yaml's preset applies to the re-parsed file");
      assert.equal(one.snapshot.jobs.presubmits['kata-containers/a']?.[0], first.jobs.presubmits['kata-containers/a']?.[0], 'jobs of unchanged files are reused, not rebuilt');

      await writeFile(join(d, 'presets.yaml'), presets('2'));
      const all = await source.reload();
      // presets.yaml first (to learn the new presets), then every job file that takes the changed preset.
      assert.equal(all.status === 'applied' && all.stats.parsed, 5, 'a preset change rebuilds the job files that use it');
      assert.deepEqual(all.snapshot.jobs.presubmits['kata-containers/d']?.[0]?.spec?.containers[0]?.env, [{ name: 'KVM', value: '2' }]);

      await writeFile(join(d, 'presets.yaml'), `${presets('2')}- labels: {preset-unused: "true"}\n  env: [{name: UNUSED, value: x}]\n`);
      const unused = await source.reload();
      assert.equal(unused.status === 'applied' && unused.stats.parsed, 1, 'a preset no job takes rebuilds nothing else');
      assert.equal(unused.snapshot.jobs.presubmits['kata-containers/d']?.[0], all.snapshot.jobs.presubmits['kata-containers/d']?.[0]);

      await writeFile(join(d, 'c.yaml'), await readFile(join(d, 'c.yaml'), 'utf8'));
      const touched = await source.reload();
      assert.equal(touched.status, 'unchanged', 'a rewrite with the same content is no change');
      assert.equal(touched.status === 'unchanged' && touched.stats.parsed, 0);
    } finally {
      source.close();
    }
  });

  it('follows a file replaced by rename (editors) and a ConfigMap ..data swap, again and again', async () => {
    const d = await tempDir();
    // ConfigMap layout: katabot.yaml -> ..data/katabot.yaml, ..data -> ..2026_01_01
    await mkdir(join(d, '..v1'));
    await writeFile(join(d, '..v1', 'katabot.yaml'), 'tdx:\n  approvers: [alice]\n');
    await symlink('..v1', join(d, '..data'));
    await symlink(join('..data', 'katabot.yaml'), join(d, 'katabot.yaml'));
    await writeFile(join(d, 'plugins.yaml'), 'triggers: []\n');
    const source = new ConfigSource({ KATABOT_CONFIG: join(d, 'katabot.yaml'), PLUGIN_CONFIG: join(d, 'plugins.yaml') }, capturingLogger().log, { debounceMs: 30 });
    try {
      await source.start();
      for (const [i, who] of ['bob', 'carol'].entries()) {
        await mkdir(join(d, `..v${i + 2}`));
        await writeFile(join(d, `..v${i + 2}`, 'katabot.yaml'), `tdx:\n  approvers: [${who}]\n`);
        await symlink(`..v${i + 2}`, join(d, '..tmp'));
        await rename(join(d, '..tmp'), join(d, '..data')); // atomic swap, as kubelet does
        await rm(join(d, `..v${i + 1}`), { recursive: true });
        await until(() => source.current().katabot.tdx.approvers[0] === who, 5000, `ConfigMap swap to ${who}`);
      }
      for (const only of [true, false]) {
        await writeFile(join(d, 'plugins.tmp'), `triggers:\n- repos: [kata-containers]\n  only_org_members: ${only}\n`);
        await rename(join(d, 'plugins.tmp'), join(d, 'plugins.yaml'));
        await until(() => source.current().plugins?.triggers[0]?.only_org_members === only, 5000, `plugins.yaml replaced (${only})`);
      }
    } finally {
      source.close();
    }
  });
});
