// Prow's trust labels and label-set helpers. Pure: no I/O.

/** Label names from Prow's pkg/labels. */
export const LABEL = {
  okToTest: 'ok-to-test',
  needsOkToTest: 'needs-ok-to-test',
  lgtm: 'lgtm',
} as const;

/** GitHub label names are unique case-insensitively, and Prow's github.HasLabel compares with EqualFold. */
export function sameLabel(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

export function hasLabel(labels: readonly string[], name: string): boolean {
  return labels.some((l) => sameLabel(l, name));
}

/** The label set after removing `remove` and then adding `add` (case-insensitive, no duplicates). */
export function applyLabelChanges(labels: readonly string[], add: readonly string[], remove: readonly string[]): string[] {
  const out = labels.filter((l) => !hasLabel(remove, l));
  for (const a of add) if (!hasLabel(out, a)) out.push(a);
  return out;
}
