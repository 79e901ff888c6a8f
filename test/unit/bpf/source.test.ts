// A package's program as text: what the scanner finds, and that rendering fills placeholders, adds the attach
// marker and never moves a line (bpftrace's errors must point at the package's own lines).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ATTACH_MARKER, literal, renderProgram, scanSource, scopeExpression } from '../../../src/bpf/source.ts';

const PROGRAM = `// counts \${not_a_placeholder} "and no string"
/* a block comment
   with @not_a_map and printf("nope\\n") */
tracepoint:raw_syscalls:sys_enter /\${in_scope} && comm != \${skip}/ {
  @calls[comm] = count();
  printf("call\\t%d\\t%s\\n", pid, "} @fake");
}

kprobe:do_sys_open,
kprobe:do_sys_openat2 { @opens = count(); }
END { clear(@calls); }
`;

describe('scanSource', () => {
  const info = scanSource(PROGRAM);

  it('finds placeholders outside comments and strings, with their lines', () => {
    assert.deepEqual(info.placeholders.map((p) => [p.name, p.line]), [['in_scope', 4], ['skip', 4]]);
  });
  it('finds printf formats, decoded', () => {
    assert.deepEqual(info.printfs, [{ format: 'call\t%d\t%s\n', line: 6 }]);
  });
  it('finds the maps the program uses', () => {
    assert.deepEqual([...info.maps.entries()], [['@calls', 5], ['@opens', 10]]);
  });
  it('finds the top-level probes, a comma-list over lines included', () => {
    assert.deepEqual(info.probes.map((p) => p.spec), ['tracepoint:raw_syscalls:sys_enter', 'kprobe:do_sys_open', 'kprobe:do_sys_openat2', 'END']);
    assert.equal(info.beginBody, undefined);
    assert.deepEqual(info.problems, []);
  });
  it('reports unbalanced braces and unterminated strings with their line', () => {
    assert.deepEqual(scanSource('BEGIN {\n  printf("x\\n");\n').problems, [{ line: 3, message: "missing '}' at the end of the program" }]);
    assert.deepEqual(scanSource('BEGIN { }\n}\n').problems, [{ line: 2, message: "unbalanced '}'" }]);
    assert.equal(scanSource('BEGIN { printf("x); }\n').problems[0]?.message, 'unterminated string');
  });
});

describe('renderProgram', () => {
  const render = (src: string): string => renderProgram(src, { params: { skip: 'a"b' }, scope: 'cgroup == 7', attachMarker: true });

  it('fills placeholders in place and keeps every line where it was', () => {
    const out = render(PROGRAM);
    assert.equal(out.split('\n').length, PROGRAM.split('\n').length);
    assert.match(out.split('\n')[3]!, /^tracepoint:raw_syscalls:sys_enter \/\(cgroup == 7\) && comm != "a\\"b"\/ \{$/);
    assert.match(out, /\/\/ counts \$\{not_a_placeholder\}/, 'comments stay as they are');
  });
  it('adds the attach marker to BEGIN, or a BEGIN of its own on the last line', () => {
    const withBegin = render('BEGIN { @x = 1; }\ntracepoint:a:b { }\n');
    assert.equal(withBegin, 'BEGIN { printf("katabot\\x1fattached\\n"); @x = 1; }\ntracepoint:a:b { }\n');
    const without = render('tracepoint:a:b { }\n');
    assert.equal(without, 'tracepoint:a:b { } BEGIN { printf("katabot\\x1fattached\\n"); }\n');
    assert.equal(ATTACH_MARKER, 'katabot\x1fattached');
  });
  it('refuses a placeholder that is not a parameter', () => {
    assert.throws(() => renderProgram('BEGIN { print(${nope}); }', { params: {}, scope: '1', attachMarker: false }), /line 1: \$\{nope\} is not a parameter/);
  });
  it('writes values as bpftrace literals', () => {
    assert.equal(literal(42), '42');
    assert.equal(literal(true), '1');
    assert.equal(literal('a\\b"\n'), '"a\\\\b\\"\\n"');
  });
});

describe('scopeExpression', () => {
  it('all: true', () => assert.equal(scopeExpression({ kind: 'all' }, '__parent'), '1'));
  it('cgroups: the cgroup or an ancestor within the depth is a target', () => {
    const e = scopeExpression({ kind: 'cgroups', ids: [11n, 22n] }, 'parent', 2);
    assert.match(e, /^cgroup == 11 \|\| cgroup == 22 \|\| /);
    assert.equal((e.match(/->parent\)->id == 11/g) ?? []).length, 2);
    assert.doesNotMatch(e, /__parent/);
  });
  it('own pod: below the pod cgroup, not the tracer itself', () => {
    assert.match(scopeExpression({ kind: 'own-pod', self: 5n, pod: 4n }, '__parent', 1), /^cgroup != 5 && \(\(\(struct kernfs_node \*\)/);
  });
  it('host mode: a subtree but the excluded cgroups', () => {
    assert.match(scopeExpression({ kind: 'cgroups', ids: [11n], exclude: [9n, 8n] }, '__parent', 1), /^\(cgroup == 11 \|\| .*->id == 11\) && cgroup != 9 && cgroup != 8$/);
  });
  it('all but self (a guest tracer): any cgroup but the tracer\'s', () => assert.equal(scopeExpression({ kind: 'all-but-self', self: 9n }, '__parent'), 'cgroup != 9'));
  it('refuses an empty scope', () => assert.throws(() => scopeExpression({ kind: 'cgroups', ids: [] }, '__parent'), /no cgroup to trace/));
});
