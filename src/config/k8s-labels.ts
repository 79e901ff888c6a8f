// Kubernetes label rules as Prow applies them to ProwJob labels (pkg/pod-utils/decorate/podspec.go).

/** k8s validation.LabelValueMaxLength */
const LABEL_VALUE_MAX_LENGTH = 63;

const LABEL_VALUE_RE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const LABEL_NAME_RE = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS1123_SUBDOMAIN_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** k8s IsValidLabelValue: empty, or ≤63 alphanumerics, `-`, `_`, `.`, starting and ending alphanumeric. */
export function isValidLabelValue(v: string): boolean {
  return v.length <= LABEL_VALUE_MAX_LENGTH && LABEL_VALUE_RE.test(v);
}

/** k8s IsQualifiedName, the rule for label keys: `[prefix/]name`, prefix a DNS subdomain ≤253, name ≤63. */
export function isValidLabelKey(k: string): boolean {
  const slash = k.lastIndexOf('/');
  const name = slash < 0 ? k : k.slice(slash + 1);
  const prefix = slash < 0 ? undefined : k.slice(0, slash);
  if (prefix !== undefined && (prefix.length === 0 || prefix.length > 253 || !DNS1123_SUBDOMAIN_RE.test(prefix))) return false;
  return name.length > 0 && name.length <= 63 && LABEL_NAME_RE.test(name);
}

/** Go's filepath.Base on a Unix system. */
export function filepathBase(p: string): string {
  if (p === '') return '.';
  let s = p.replace(/\/+$/, '');
  if (s === '') return '/';
  const i = s.lastIndexOf('/');
  if (i >= 0) s = s.slice(i + 1);
  return s === '' ? '/' : s;
}

/**
 * Prow's truncation of the job and context label values: the first 63 characters with trailing `.`, `_`, `-`
 * trimmed. Values of 63 characters or fewer are returned unchanged.
 */
export function truncateLabelValue(v: string): string {
  if (v.length <= LABEL_VALUE_MAX_LENGTH) return v;
  return v.slice(0, LABEL_VALUE_MAX_LENGTH).replace(/[._-]+$/, '');
}

/**
 * Prow's repair of an invalid label value: the value itself when valid, else its filepath.Base when that is valid
 * (e.g. base ref `release/1.2` → `1.2`), else undefined (Prow drops the label).
 */
export function validLabelValue(v: string): string | undefined {
  if (isValidLabelValue(v)) return v;
  const base = filepathBase(v);
  return isValidLabelValue(base) ? base : undefined;
}

/** Applies validLabelValue to every label, dropping those that cannot be repaired (as Prow does). */
export function sanitizeLabels(labels: Readonly<Record<string, string>>): { labels: Record<string, string>; dropped: string[] } {
  const out: Record<string, string> = {};
  const dropped: string[] = [];
  for (const [k, v] of Object.entries(labels)) {
    const valid = validLabelValue(v);
    if (valid === undefined) dropped.push(k);
    else out[k] = valid;
  }
  return { labels: out, dropped };
}
