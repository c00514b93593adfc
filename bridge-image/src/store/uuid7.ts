import { randomBytes } from 'node:crypto';

/** Random hex digits, drawn 20 at a time. */
let pool = '';
let offset = 0;
/** The hex of the current millisecond's timestamp, kept while the clock stays on it. */
let lastMs = -1;
let timeHex = '';

const VARIANT = ['8', '9', 'a', 'b'];

/**
 * A time-ordered UUID (RFC 9562 version 7): 48 bits of milliseconds, the version, 74 random bits
 * with the variant. Event ids are indexed; ids that grow with time land at the end of the index
 * instead of on a random page. Built from hex strings directly: no buffer per id.
 */
export function uuid7(now = Date.now()): string {
  if (now !== lastMs) {
    lastMs = now;
    timeHex = now.toString(16).padStart(12, '0').slice(-12);
  }
  if (offset + 20 > pool.length) {
    pool = randomBytes(2048).toString('hex');
    offset = 0;
  }
  const r = pool.slice(offset, offset + 20);
  offset += 20;
  // 3 random digits after the version; the variant digit takes 2 random bits of r[3].
  return (
    `${timeHex.slice(0, 8)}-${timeHex.slice(8)}-7${r.slice(0, 3)}-` +
    `${VARIANT[parseInt(r[3]!, 16) & 3]!}${r.slice(4, 7)}-${r.slice(7, 19)}`
  );
}
