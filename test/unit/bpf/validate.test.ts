// Checks that need no kernel (the output contract between program and package.yaml, placeholders, versions) and
// bpftrace's diagnostics read into problems with the package's line numbers.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { builtinPackage } from '../../../src/bpf/builtin.ts';
import { parsePackageYaml, unnamedPackage, type BpfPackage } from '../../../src/bpf/package.ts';
import { checkPackage, checkRequirements, formatProblems, parseBpftraceDiagnostics, type Problem } from '../../../src/bpf/validate.ts';

function pkg(yaml: string, source: string): BpfPackage {
  return { meta: parsePackageYaml(`name: t\nversion: 1.0.0\n${yaml}`, 't'), source, origin: { kind: 'repo', path: '/r/t' } };
}

const errors = (ps: Problem[]): string[] => ps.filter((p) => p.severity === 'error').map((p) => `${p.line ?? '-'}: ${p.message}`);
const warnings = (ps: Problem[]): string[] => ps.filter((p) => p.severity === 'warning').map((p) => `${p.line ?? '-'}: ${p.message}`);

describe('checkPackage: the output contract', () => {
  const yaml = 'parameters: [{name: min, type: int, default: 0}]\nevents:\n  - {name: slow, fields: [pid, comm, path]}\n  - {name: calls, map: "@calls", keys: [comm]}\n';

  it('accepts a program that prints what package.yaml declares', () => {
    const p = pkg(yaml, 'tracepoint:a:b /${in_scope} && pid > ${min}/ {\n  @calls[comm] = count();\n  printf("slow\\t%d\\t%s\\t%s\\n", pid, comm, "x");\n}\n');
    assert.deepEqual(checkPackage(p), []);
  });

  const cases: Array<[string, string, string[]]> = [
    ['an undeclared printf event, with its line', 'tracepoint:a:b /${in_scope}/ {\n  @calls[comm] = count();\n  printf("slow\\t%d\\t%s\\t%s\\n", pid, comm, "x");\n  printf("fast %d\\n", pid);\n}\n',
      ['4: printf prints "fast %d", which is not a declared event (declared: slow); an event line is its name, a tab, then its fields separated by tabs']],
    ['a column count that differs', 'tracepoint:a:b /${in_scope}/ {\n  @calls[comm] = count();\n  printf("slow\\t%d\\t%s\\n", pid, comm);\n}\n',
      ['3: printf for event slow has 2 tab-separated column(s) after the name, package.yaml declares 3 (pid, comm, path)']],
    ['a declared map the program does not use', 'tracepoint:a:b /${in_scope}/ {\n  printf("slow\\t%d\\t%s\\t%s\\n", pid, comm, "x");\n}\n',
      ['-: event calls reads map @calls, which the program does not use']],
    ['a placeholder that is not a parameter', 'tracepoint:a:b /${in_scope} && pid > ${max}/ {\n  @calls[comm] = count();\n  printf("slow\\t%d\\t%s\\t%s\\n", pid, comm, "x");\n}\n',
      ['1: ${max} is not a parameter of t (parameters: min)']],
    ['a syntax slip the scanner sees', 'tracepoint:a:b /${in_scope}/ {\n  @calls[comm] = count();\n  printf("slow\\t%d\\t%s\\t%s\\n", pid, comm, "x");\n', ["4: missing '}' at the end of the program"]],
  ];
  for (const [what, source, want] of cases) it(`reports ${what}`, () => assert.deepEqual(errors(checkPackage(pkg(yaml, source))), want));

  it('warns about what is legal but probably a mistake', () => {
    const p = pkg(yaml, 'tracepoint:a:b {\n  @calls[comm] = count();\n  @tmp[tid] = 1;\n  printf("slow\\t%d\\t%s\\t%s\\n", pid, comm, "x");\n}\n');
    assert.deepEqual(warnings(checkPackage(p)), [
      '-: parameter min is declared but the program never uses ${min}',
      '-: the program does not use ${in_scope}: it sees every process on the machine, not just the command, pod or node it is run for',
      '3: map @tmp is not declared in package.yaml: if it still holds entries at exit, bpftrace prints it and it becomes custom events "tmp" (clear(@tmp) in END if it is only state)',
    ]);
    // a map cleared in END is state
    const cleared = pkg(yaml, 'tracepoint:a:b /${in_scope} && pid > ${min}/ {\n  @calls[comm] = count();\n  @tmp[tid] = 1;\n  printf("slow\\t%d\\t%s\\t%s\\n", pid, comm, "x");\n}\nEND { clear(@tmp); }\n');
    assert.deepEqual(checkPackage(cleared), []);
  });

  it('checks the parameters given', () => {
    assert.deepEqual(errors(checkPackage(pkg(yaml, 'BEGIN { @calls[comm] = count(); printf("slow\\t%d\\t%s\\t%s\\n", pid, comm, "x"); exit(); } tracepoint:a:b /${in_scope} && pid > ${min}/ {}'), { min: 'x' })),
      ['-: parameter min: "x" is not an integer']);
  });

  it('takes an unnamed package\'s output as it comes, and a built-in package as generated', () => {
    assert.deepEqual(errors(checkPackage(unnamedPackage('x.bt', 'tracepoint:a:b { printf("anything %d\\n", pid); @m[comm] = count(); }'))), []);
    assert.deepEqual(checkPackage(builtinPackage('dns')!), []);
  });
});

describe('checkRequirements', () => {
  const p = pkg('requires: {bpftrace: 0.19.0, kernel: "6.1"}\n', 'BEGIN {}');
  it('names the versions that are too old', () => {
    assert.deepEqual(checkRequirements(p.meta, { bpftrace: 'v0.17.0', kernel: '5.15.0-91-generic' }).map((x) => x.message), [
      't@1.0.0 needs bpftrace ≥ 0.19.0, this is v0.17.0', 't@1.0.0 needs Linux ≥ 6.1, this is 5.15.0-91-generic',
    ]);
    assert.deepEqual(checkRequirements(p.meta, { bpftrace: 'v0.19.1', kernel: '6.18.44-fc-v595' }), []);
  });
});

describe('parseBpftraceDiagnostics (bpftrace v0.17 stderr)', () => {
  const FILE = '/tmp/katabot-bpf-x/program.bt';
  it('reads a syntax error with its line and column, and drops the memlock notice', () => {
    const stderr = 'ERROR: Unknown error -1: couldn\'t set RLIMIT_MEMLOCK for bpftrace. If your program is not loading, you can try "ulimit -l 8192" to fix the problem\n'
      + `${FILE}:3:21: ERROR: syntax error, unexpected ;\n  @syscalls[comm] = count(;\n                    ~\n`;
    const ps = parseBpftraceDiagnostics(stderr, FILE);
    assert.deepEqual(ps, [{ severity: 'error', message: 'syntax error, unexpected ;', line: 3, col: 21 }]);
    assert.deepEqual(formatProblems('program.bt', ps), ['program.bt:3:21: error: syntax error, unexpected ;']);
  });
  it('places a missing tracepoint on the probe\'s line (the end of bpftrace\'s range)', () => {
    assert.deepEqual(parseBpftraceDiagnostics(`${FILE}:4-5: ERROR: tracepoint not found: nope:nothere\n`, FILE),
      [{ severity: 'error', message: 'probe does not exist on this kernel: tracepoint not found: nope:nothere', line: 5 }]);
  });
  it('turns an untraceable kprobe warning into an error', () => {
    const ps = parseBpftraceDiagnostics(`${FILE}:1:1-25: WARNING: nonexistent_fn_zz is not traceable (either non-existing, inlined, or marked as "notrace"); attaching to it will likely fail\n`, FILE);
    assert.equal(ps[0]!.severity, 'error');
    assert.match(ps[0]!.message, /^probe does not exist on this kernel: nonexistent_fn_zz is not traceable/);
  });
  it('keeps errors without a location', () => {
    assert.deepEqual(parseBpftraceDiagnostics('ERROR: Could not resolve symbol: /bin/nope:main\n', FILE), [{ severity: 'error', message: 'Could not resolve symbol: /bin/nope:main' }]);
  });
});
