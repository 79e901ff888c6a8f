// What a job's requirement (src/dashboard/required.ts) means, in words. Pure; the browser bundle uses it.

export function describeRequirement(by: string): string {
  if (by === 'required_tests') return 'always required (required_tests)';
  if (by === 'required_regexps') return 'always required (required_regexps)';
  if (by === 'prow') return 'required by Prow (a presubmit that is not optional)';
  if (by.startsWith('mapping:')) return `required when a PR needs the "${by.slice('mapping:'.length)}" tests (required-tests.yaml)`;
  return by;
}
