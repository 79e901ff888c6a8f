// Package metadata: what package.yaml may say, what it must say, and the errors that name the field.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  PackageError, bundlePackages, compareVersions, isVersion, packageFromFiles, parsePackageMeta, parsePackageRef, parsePackageYaml,
  parseParamArgs, resolveParams, stringifyPackageMeta, unbundlePackages, unnamedPackage, versionAtLeast, type PackageMeta,
} from '../../../src/bpf/package.ts';

const base = { name: 'syscount', version: '1.0.0', description: 'd' };

describe('parsePackageMeta', () => {
  it('completes a minimal package: no events, no parameters, bpftrace 0.17.0, program.bt', () => {
    const { meta, problems } = parsePackageMeta(base);
    assert.deepEqual(problems, []);
    assert.deepEqual(meta, { ...base, events: [], parameters: [], requires: { bpftrace: '0.17.0' }, program: 'program.bt' });
  });

  it('reads map and printf events, field types, kinds and identity', () => {
    const { meta, problems } = parsePackageMeta({
      ...base,
      requires: { bpftrace: 'v0.18.0', kernel: 5.8 },
      events: [
        { name: 'syscalls', map: '@syscalls', keys: ['comm', 'nr:int'] },
        { name: 'slow', fields: ['ts', 'pid', 'comm', { name: 'latency', type: 'int' }, 'path'] },
        { name: 'create', kind: 'open', fields: ['ts', 'pid', 'path', 'flags'] },
      ],
    });
    assert.deepEqual(problems, []);
    const [syscalls, slow, create] = meta!.events;
    assert.deepEqual(syscalls, {
      name: 'syscalls', kind: 'custom', source: 'map', map: '@syscalls',
      fields: [{ name: 'comm', type: 'string' }, { name: 'nr', type: 'int' }, { name: 'value', type: 'int' }], identity: ['comm', 'nr'],
    });
    assert.deepEqual(slow!.fields.map((f) => `${f.name}:${f.type}`), ['ts:int', 'pid:int', 'comm:string', 'latency:int', 'path:string']);
    assert.deepEqual(slow!.identity, ['comm', 'path'], 'printf events: string fields identify');
    assert.equal(create!.kind, 'open');
    assert.deepEqual(meta!.requires, { bpftrace: '0.18.0', kernel: '5.8' });
  });

  const bad: Array<[string, Record<string, unknown>, RegExp]> = [
    ['a name with capitals', { ...base, name: 'SysCount' }, /^name: "SysCount" is not a package name/],
    ['a version that is not semver', { ...base, version: '1.0' }, /^version: "1\.0" is not a semantic version/],
    ['an unknown top-level key', { ...base, probes: [] }, /^unknown key "probes"/],
    ['an unknown event kind', { ...base, events: [{ name: 'x', kind: 'fork', fields: ['pid'] }] }, /events\.x\.kind: "fork" is not a trace kind/],
    ['a printf event without fields', { ...base, events: [{ name: 'x' }] }, /events\.x\.fields: a printf event lists its columns/],
    ['a mapped kind without pid', { ...base, events: [{ name: 'x', kind: 'open', fields: ['path'] }] }, /events\.x: an event of kind open needs a pid field/],
    ['a field the kind does not have', { ...base, events: [{ name: 'x', kind: 'dns', fields: ['pid', 'path'] }] }, /kind dns has no field path/],
    ['a map event of a trace kind', { ...base, events: [{ name: 'x', kind: 'exec', map: '@x', keys: ['pid'] }] }, /map events are custom/],
    ['identity naming no field', { ...base, events: [{ name: 'x', fields: ['comm'], identity: ['path'] }] }, /events\.x\.identity: path is not one of its fields/],
    ['a reserved parameter', { ...base, parameters: [{ name: 'in_scope' }] }, /parameters\.in_scope: the name is reserved/],
    ['a default of the wrong type', { ...base, parameters: [{ name: 'n', type: 'int', default: 'ten' }] }, /parameters\.n\.default: "ten" is not an integer/],
    ['two events with one name', { ...base, events: [{ name: 'x', fields: ['a'] }, { name: 'x', fields: ['b'] }] }, /events: x is declared twice/],
    ['a program path outside the package', { ...base, program: '../x.bt' }, /program: "\.\.\/x\.bt" must be a file name/],
  ];
  for (const [what, raw, re] of bad) {
    it(`rejects ${what}`, () => {
      const { meta, problems } = parsePackageMeta(raw);
      assert.equal(meta, undefined);
      assert.ok(problems.some((p) => re.test(p)), problems.join('\n'));
    });
  }

  it('names every problem at once, with where it came from', () => {
    assert.throws(() => parsePackageYaml('name: X\nversion: one\n', '.katabot/probes/x/package.yaml'), (e: unknown) => {
      assert.ok(e instanceof PackageError);
      assert.equal(e.problems.length, 2);
      assert.match(e.message, /^\.katabot\/probes\/x\/package\.yaml: \n {2}name: "X"/);
      return true;
    });
    assert.throws(() => parsePackageYaml('name: [', 'p.yaml'), /p\.yaml: not YAML/);
  });

  it('round-trips through package.yaml text', () => {
    const meta = parsePackageYaml(`name: s\nversion: 1.2.3-rc.1\ndescription: x\nrequires: {kernel: "5.8"}\nparameters:\n  - {name: n, type: int, default: 3}\nevents:\n  - {name: c, map: "@c", keys: [comm, "nr:int"]}\n  - {name: o, kind: open, fields: [ts, pid, path]}\n`, 'x');
    assert.deepEqual(parsePackageYaml(stringifyPackageMeta(meta), 'again'), meta);
  });
});

describe('versions and references', () => {
  const order = ['0.9.0', '1.0.0-alpha', '1.0.0-beta', '1.0.0', '1.2.0', '1.10.0', '2.0.0'];
  it('orders versions as semver', () => assert.deepEqual([...order].reverse().sort(compareVersions), order));
  const preReleases = ['1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-alpha.beta', '1.0.0-beta', '1.0.0-beta.2', '1.0.0-beta.11', '1.0.0-rc.1', '1.0.0-rc.2', '1.0.0-rc.10', '1.0.0'];
  it('orders pre-releases as semver does (numeric identifiers as numbers: rc.2 before rc.10)', () => {
    assert.deepEqual([...preReleases].reverse().sort(compareVersions), preReleases);
  });
  it('ignores build metadata in the order', () => assert.equal(compareVersions('1.0.0+build.1', '1.0.0+build.2'), 0));
  const versions: Array<[string, boolean]> = [
    ['1.2.3', true], ['1.0.0-rc.10', true], ['1.0.0+build.5', true], ['1.0.0-rc.1+b', true],
    ['v1.2.3', false], [' 1.2.3', false], ['1.2.3 ', false], ['01.2.3', false], ['1.2', false], ['1.0.0-01', false], ['6.1.0-13-amd64 ', false],
  ];
  for (const [v, want] of versions) it(`${JSON.stringify(v)} is ${want ? '' : 'not '}a package version`, () => assert.equal(isVersion(v), want));
  const atLeast: Array<[string, string, boolean]> = [
    ['v0.17.0', '0.17.0', true], ['v0.17.1', '0.18', false], ['6.1.0-13-amd64', '5.8', true], ['5.4.0', '5.8', false], ['6.18.44-fc', '6.18.44', true],
  ];
  for (const [a, m, want] of atLeast) it(`${a} ≥ ${m} is ${want}`, () => assert.equal(versionAtLeast(a, m), want));

  const refs: Array<[string, ReturnType<typeof parsePackageRef>]> = [
    ['syscount', { kind: 'name', name: 'syscount' }],
    ['syscount@1.2.0', { kind: 'name', name: 'syscount', version: '1.2.0' }],
    ['./probes/x.bt', { kind: 'path', path: './probes/x.bt' }],
    ['x.bt', { kind: 'path', path: 'x.bt' }],
    ['/abs/dir', { kind: 'path', path: '/abs/dir' }],
  ];
  for (const [ref, want] of refs) it(`reads the reference ${ref}`, () => assert.deepEqual(parsePackageRef(ref), want));
  it('rejects a bad version in a reference', () => assert.throws(() => parsePackageRef('s@latest'), /version "latest" is not a semantic version/));
});

describe('parameters', () => {
  const meta: PackageMeta = {
    ...base, events: [], requires: { bpftrace: '0.17.0' }, program: 'program.bt',
    parameters: [{ name: 'n', type: 'int', default: 1 }, { name: 'comm', type: 'string' }, { name: 'on', type: 'bool', default: false }],
  };
  it('fills defaults and converts --param strings', () => {
    assert.deepEqual(resolveParams(meta, parseParamArgs(['comm=cat', 'n=42', 'on=true'])), { n: 42, comm: 'cat', on: true });
    assert.deepEqual(resolveParams(meta, { comm: '' }), { n: 1, comm: '', on: false });
  });
  it('names missing, unknown and mistyped parameters together', () => {
    assert.throws(() => resolveParams(meta, { n: '4x', extra: '1' }), (e: unknown) => {
      assert.ok(e instanceof PackageError);
      assert.deepEqual(e.problems, [
        'unknown parameter extra (n, comm, on)', 'parameter n: "4x" is not an integer', 'parameter comm is required (--param comm=<string>)',
      ]);
      return true;
    });
    assert.throws(() => parseParamArgs(['novalue']), /"novalue" is not k=v/);
  });
});

describe('packages as files', () => {
  it('an unnamed package is named after its file and takes output as it comes', () => {
    const p = unnamedPackage('/tmp/My Probe.bt', 'BEGIN {}');
    assert.equal(p.meta.name, 'my-probe');
    assert.equal(p.meta.version, '0.0.0');
    assert.equal(p.meta.unnamed, true);
    assert.deepEqual(p.origin, { kind: 'file', path: '/tmp/My Probe.bt' });
  });
  it('reads a package from its files and says what is missing', () => {
    const files = { 'package.yaml': 'name: a\nversion: 1.0.0\nprogram: a.bt\n', 'a.bt': 'BEGIN {}' };
    assert.equal(packageFromFiles(files, { kind: 'repo', path: '/r/a' }, 'a').source, 'BEGIN {}');
    assert.throws(() => packageFromFiles({ 'package.yaml': files['package.yaml'] }, { kind: 'repo', path: '/r/a' }, 'a'), /a: no a\.bt/);
    assert.throws(() => packageFromFiles({}, { kind: 'repo', path: '/r/a' }, 'a'), /a: no package\.yaml/);
  });
  it('bundles custom packages for a sidecar and reads them back', () => {
    const a = packageFromFiles({ 'package.yaml': 'name: a\nversion: 1.0.0\n', 'program.bt': 'BEGIN { printf("x\\n"); }' }, { kind: 'repo', path: '/r/a' }, 'a');
    const back = unbundlePackages(bundlePackages([a]));
    assert.equal(back.length, 1);
    assert.deepEqual(back[0]!.meta, a.meta);
    assert.equal(back[0]!.source, a.source);
    assert.throws(() => unbundlePackages('{'), /KATABOT_BPF_PACKAGES: not JSON/);
  });
});
