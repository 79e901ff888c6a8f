// X-Hub-Signature-256 verification: HMAC-SHA256 over the raw body, compared in constant time with every
// configured secret, so secrets can be rotated by listing old and new together.
import { createHmac, timingSafeEqual } from 'node:crypto';

const PREFIX = 'sha256=';
const HEX_LEN = 64;

export function sign(secret: string, body: string | Buffer): string {
  return PREFIX + createHmac('sha256', secret).update(body).digest('hex');
}

export function verifySignature(secrets: readonly string[], body: Buffer, header: string | undefined): boolean {
  if (!header || !header.startsWith(PREFIX) || header.length !== PREFIX.length + HEX_LEN) return false;
  const given = Buffer.from(header.slice(PREFIX.length), 'hex');
  if (given.length !== HEX_LEN / 2) return false; // not hex
  let ok = false;
  // Check every secret (no early exit) so timing does not reveal which one matched.
  for (const secret of secrets) {
    const expected = createHmac('sha256', secret).update(body).digest();
    if (timingSafeEqual(expected, given)) ok = true;
  }
  return ok;
}
