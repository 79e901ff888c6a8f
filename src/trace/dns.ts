// DNS question parsing for the `dns` event: the BPF side copies the start of a message sent to port 53 with
// bpftrace's `buf()`, printed with `%r` (printable ASCII kept, other bytes as `\xNN`).

/** Decodes bpftrace `%r` text back into bytes. */
export function decodeBpftraceBuffer(text: string): Uint8Array {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '\\' && text[i + 1] === 'x' && /^[0-9a-fA-F]{2}$/.test(text.slice(i + 2, i + 4))) {
      bytes.push(parseInt(text.slice(i + 2, i + 4), 16));
      i += 3;
    } else {
      bytes.push(text.charCodeAt(i) & 0xff);
    }
  }
  return Uint8Array.from(bytes);
}

const QTYPES: Record<number, string> = {
  1: 'A', 2: 'NS', 5: 'CNAME', 6: 'SOA', 12: 'PTR', 15: 'MX', 16: 'TXT', 28: 'AAAA', 33: 'SRV', 64: 'SVCB', 65: 'HTTPS', 255: 'ANY',
};

export interface DnsQuestion {
  name: string;
  qtype: string;
  /** the captured bytes ended before the question did */
  truncated: boolean;
}

/**
 * Parses the first question of a DNS query message. `tcp` messages start with a 2-byte length.
 * Returns undefined when the bytes are not a query (a response, or not DNS at all).
 */
export function parseDnsQuery(bytes: Uint8Array, tcp = false): DnsQuestion | undefined {
  const base = tcp ? 2 : 0;
  if (bytes.length < base + 12) return undefined;
  const flags = (bytes[base + 2]! << 8) | bytes[base + 3]!;
  const isResponse = (flags & 0x8000) !== 0;
  const opcode = (flags >> 11) & 0xf;
  const qdcount = (bytes[base + 4]! << 8) | bytes[base + 5]!;
  if (isResponse || opcode !== 0 || qdcount < 1) return undefined;
  const labels: string[] = [];
  let at = base + 12;
  for (;;) {
    if (at >= bytes.length) return { name: labels.join('.'), qtype: '', truncated: true };
    const len = bytes[at]!;
    if (len === 0) { at++; break; }
    if (len > 63) return undefined; // compression pointers never appear in a question we send
    if (at + 1 + len > bytes.length) {
      labels.push(latin1(bytes.subarray(at + 1)));
      return { name: labels.join('.'), qtype: '', truncated: true };
    }
    labels.push(latin1(bytes.subarray(at + 1, at + 1 + len)));
    at += 1 + len;
  }
  if (at + 2 > bytes.length) return { name: labels.join('.'), qtype: '', truncated: true };
  const qtype = (bytes[at]! << 8) | bytes[at + 1]!;
  return { name: labels.length === 0 ? '.' : labels.join('.'), qtype: QTYPES[qtype] ?? `TYPE${qtype}`, truncated: false };
}

function latin1(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return s.toLowerCase();
}
