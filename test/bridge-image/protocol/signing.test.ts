import { createHash, createHmac, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  bodyHash,
  HmacKey,
  canonicalString,
  deriveAdminKey,
  deriveAgentKey,
  deriveSessionKey,
  parseKeyMaterial,
  sign,
  verifySignature,
} from '../../../bridge-image/protocol/index.js';

describe('signing', () => {
  const master = randomBytes(32);
  it('derives agent keys as HMAC(master, "agent:" + id), distinct per agent and from the admin key', () => {
    expect(deriveAgentKey(master, 'a')).toEqual(createHmac('sha256', master).update('agent:a').digest());
    expect(deriveAgentKey(master, 'a')).not.toEqual(deriveAgentKey(master, 'b'));
    expect(deriveAdminKey(master)).not.toEqual(deriveAgentKey(master, 'admin'));
    expect(deriveSessionKey(deriveAgentKey(master, 'a'), 's1')).not.toEqual(
      deriveSessionKey(deriveAgentKey(master, 'a'), 's2'),
    );
  });

  it('signs method, path with query, timestamp, nonce and body hash; any change breaks it', () => {
    const key = randomBytes(32);
    const c = canonicalString('POST', '/v1/events?x=1', '1000', 'n'.repeat(32), bodyHash('{}'));
    const sig = sign(key, c);
    expect(verifySignature(key, c, sig)).toBe(true);
    for (const other of [
      canonicalString('GET', '/v1/events?x=1', '1000', 'n'.repeat(32), bodyHash('{}')),
      canonicalString('POST', '/v1/events?x=2', '1000', 'n'.repeat(32), bodyHash('{}')),
      canonicalString('POST', '/v1/events?x=1', '1001', 'n'.repeat(32), bodyHash('{}')),
      canonicalString('POST', '/v1/events?x=1', '1000', 'm'.repeat(32), bodyHash('{}')),
      canonicalString('POST', '/v1/events?x=1', '1000', 'n'.repeat(32), bodyHash('{ }')),
    ]) {
      expect(verifySignature(key, other, sig)).toBe(false);
    }
    expect(verifySignature(randomBytes(32), c, sig)).toBe(false);
    expect(verifySignature(key, c, sig.slice(0, 63))).toBe(false);
    expect(verifySignature(key, c, 'z'.repeat(64))).toBe(false);
  });

  it('reads key material as 64 hex characters, and refuses short or textual keys', () => {
    const k = randomBytes(32);
    expect(parseKeyMaterial(Buffer.from(k.toString('hex') + '\n'), 'key')).toEqual(k);
    expect(() => parseKeyMaterial(Buffer.from('secret'), 'key')).toThrow(/64 hex characters/);
    expect(() => parseKeyMaterial(Buffer.from('password-password-password-password!'), 'key')).toThrow();
  });

  it('HmacKey equals createHmac for any key (short, block-sized, longer than a block) and message', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 0, maxLength: 200 }),
        fc.oneof(fc.string({ maxLength: 300 }), fc.uint8Array({ maxLength: 300 })),
        (k, m) => {
          const key = Buffer.from(k);
          const msg = typeof m === 'string' ? m : Buffer.from(m);
          const h = new HmacKey(key);
          const want = createHmac('sha256', key).update(msg).digest();
          expect(h.digest(msg)).toEqual(want);
          // The kept states are not used up by a digest.
          expect(h.digest(msg)).toEqual(want);
        },
      ),
      { numRuns: 500 },
    );
    for (const len of [63, 64, 65, 128]) {
      const key = randomBytes(len);
      expect(new HmacKey(key).digest('x')).toEqual(createHmac('sha256', key).update('x').digest());
    }
  });

  it('verifies with an HmacKey as with the raw key, and hashes bodies as SHA-256', () => {
    const key = randomBytes(32);
    const c = canonicalString('POST', '/v1/events', '1000', 'n'.repeat(32), bodyHash('{"a":1}'));
    const sig = sign(key, c);
    expect(verifySignature(new HmacKey(key), c, sig)).toBe(true);
    expect(verifySignature(new HmacKey(randomBytes(32)), c, sig)).toBe(false);
    expect(bodyHash('{"a":1}')).toBe(createHash('sha256').update('{"a":1}').digest('hex'));
    expect(bodyHash(Buffer.from('xyz'))).toBe(createHash('sha256').update('xyz').digest('hex'));
  });
});
