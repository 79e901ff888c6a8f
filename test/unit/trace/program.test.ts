// The generated bpftrace program: each record printf matches the protocol's field list, the scope filter is
// built for the requested cgroups, and helper maps are cleared so only @sent is printed at exit.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RECORD_FIELDS } from '../../../src/trace/protocol.ts';
import { DEFAULT_PROGRAM_OPTIONS, generateProgram, type ProgramOptions } from '../../../src/bpf/builtin.ts';

const opts = (o: Partial<ProgramOptions> = {}): ProgramOptions => ({
  ...DEFAULT_PROGRAM_OPTIONS, scope: { kind: 'cgroups', targets: [1234n] }, agentPid: 4321, ...o,
});

describe('generateProgram', () => {
  const program = generateProgram(opts());

  it('prints every record with as many conversions as the protocol has fields', () => {
    const printfs = [...program.matchAll(/printf\("([A-Z])((?:\\x1f%[a-z]+)*)\\n"/g)];
    const tags = new Set(printfs.map((m) => m[1]));
    assert.deepEqual([...tags].sort(), Object.keys(RECORD_FIELDS).sort());
    for (const m of printfs) {
      const n = (m[2]!.match(/%/g) ?? []).length;
      assert.equal(n, RECORD_FIELDS[m[1] as keyof typeof RECORD_FIELDS].length, `record ${m[1]}`);
    }
  });

  it('counts each record in @sent by tag code (integer keys keep the BPF stack small)', () => {
    assert.doesNotMatch(program, /@sent\["/);
    for (const tag of Object.keys(RECORD_FIELDS)) assert.match(program, new RegExp(`@sent\\[${tag.charCodeAt(0)}\\] = sum\\(1\\)`));
  });

  it('filters by cgroup id and by ancestors of the event cgroup', () => {
    const two = generateProgram(opts({ scope: { kind: 'cgroups', targets: [11n, 22n] } }));
    assert.match(two, /if \(cgroup == 11 \|\| cgroup == 22\) \{ \$in = 1; \}/);
    assert.match(two, /\$kn->__parent/);
    assert.match(two, /\$kn->id == 11 \|\| \$kn->id == 22/);
    assert.match(generateProgram(opts({ kernfsParentField: 'parent' })), /\$kn->parent;/);
  });

  it('sidecar scope: records its own cgroup and pod cgroup in BEGIN and excludes itself', () => {
    const own = generateProgram(opts({ scope: { kind: 'own-pod' } }));
    assert.match(own, /@self_cg = cgroup;/);
    assert.match(own, /@pod_cg = \$parent->id;/);
    assert.match(own, /if \(cgroup != @self_cg\)/);
    assert.match(own, /clear\(@self_cg\);/);
  });

  it('host scope: a subtree (the root cgroup for the whole machine) but the tracer\'s own cgroup', () => {
    const host = generateProgram(opts({ scope: { kind: 'cgroups', targets: [1n], exclude: [77n, 78n] } }));
    assert.match(host, /if \(cgroup == 1\) \{ \$in = 1; \}/);
    assert.match(host, /if \(cgroup == 77 \|\| cgroup == 78\) \{ \$in = 0; \}\n {2}\$ppid/);
    assert.doesNotMatch(generateProgram(opts({ scope: { kind: 'cgroups', targets: [1n] } })), /\$in = 0; \}/);
  });

  it('guest scope: everything but its own cgroup, with no walk up the tree', () => {
    const guest = generateProgram(opts({ scope: { kind: 'all-but-self' } }));
    assert.match(guest, /@self_cg = cgroup;/);
    assert.match(guest, /if \(cgroup != @self_cg\) \{ \$in = 1; \}/);
    assert.doesNotMatch(guest, /@pod_cg|unroll/);
    assert.match(guest, /clear\(@self_cg\);/);
  });

  it('triggers the flush marker only from the agent', () => {
    assert.match(program, /sys_enter_kill \/pid == 4321 && args->sig == 0 && args->pid >= 4194304\//);
  });

  it('leaves out probes for kinds not asked for', () => {
    const execOnly = generateProgram(opts({ kinds: ['exec'] }));
    assert.match(execOnly, /sys_enter_execve/);
    assert.doesNotMatch(execOnly, /openat|inet_sock_set_state|sendmmsg|accept4/);
    assert.doesNotMatch(execOnly, /clear\(@open_tid\)/);
  });

  it('counts repeated opens and connects in the kernel and prints only @sent and @rep at exit', () => {
    assert.match(program, /@opromo\[/);
    assert.match(program, /@rep\[\$key, \$res\] = count\(\);/);
    assert.match(program, /@rep\[\$p, 0\] = count\(\);/);
    assert.match(program, /if \(@nrep < 15360\)/, 'the counted keys stay below the map size');
    assert.match(program, /interval:ms:200 \{\n  if \(@nseen > 8192\) \{\n    clear\(@oseen\);\n    clear\(@cseen\);/);
    const end = program.slice(program.indexOf('END {'));
    for (const m of ['@oseen', '@opromo', '@cseen', '@cpromo', '@rclass', '@seq', '@nseen', '@nrep', '@dnslast']) assert.match(end, new RegExp(`clear\\(${m}\\);`));
    assert.doesNotMatch(end, /clear\(@rep\)|clear\(@sent\)/);
  });

  it('keys a connect by its process\'s last DNS query only when DNS is traced', () => {
    assert.match(program, /@dnslast\[pid\] = nsecs;/);
    assert.match(program, /cgroup, @dnslast\[pid\], args->family/);
    const noDns = generateProgram(opts({ kinds: ['connect'] }));
    assert.doesNotMatch(noDns, /@dnslast/);
    assert.match(noDns, /cgroup, 0, args->family/);
  });

  it('prints every open and connect without aggregation', () => {
    const each = generateProgram(opts({ aggregate: false }));
    assert.doesNotMatch(each, /@rep|@opromo|@cpromo|interval:/);
    assert.match(each, /printf\("O.*, 0, \$flags & ~0x4000000000000000, args->ret/);
  });

  it('refuses an empty scope', () => {
    assert.throws(() => generateProgram(opts({ scope: { kind: 'cgroups', targets: [] } })), /no cgroup to trace/);
  });
});
