// A guard for the JSON objects katabot reads from others (bpftrace's output, audit logs, OpenAPI documents, guest
// streams, other tracers' output): a plain object, not null and not an array.
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
