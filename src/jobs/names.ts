// Deterministic ProwJob names, so a retried delivery recreates the same object (AlreadyExists = done).
import { v5 as uuidv5, validate as uuidValidate } from 'uuid';

/**
 * katabot's fixed RFC 4122 namespace for ProwJob names: uuidv5('https://katabot.dev/prowjob', URL namespace).
 * Never change it: names of jobs created before and after a change would no longer line up.
 */
export const KATABOT_PROWJOB_NAMESPACE = 'd78ce440-ad9a-54aa-a685-3d57627c59f3';

/**
 * A version-5 UUID derived from the parts, e.g. `[deliveryId, jobName, headSha, purpose]`. The same parts always
 * give the same name; any change in any part gives another. Parts are JSON-encoded first, so `['a', 'b']` and
 * `['a\u0000b']` cannot collide.
 */
export function prowJobName(parts: readonly string[]): string {
  if (parts.length === 0) throw new Error('prowJobName: at least one part is required');
  return uuidv5(JSON.stringify(parts), KATABOT_PROWJOB_NAMESPACE);
}

export function isUuid(s: string): boolean {
  return uuidValidate(s);
}
