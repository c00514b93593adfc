import crypto, { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** Header names of the signed protocol. */
export const Headers = {
  session: 'x-lighthouse-session',
  agent: 'x-lighthouse-agent',
  timestamp: 'x-lighthouse-timestamp',
  nonce: 'x-lighthouse-nonce',
  signature: 'x-lighthouse-signature',
  client: 'x-lighthouse-client',
  requestId: 'x-request-id',
  /** Makes a non-idempotent request safe to retry: the bridge answers a repeat with the first reply. */
  idempotencyKey: 'idempotency-key',
  idempotentReplay: 'x-lighthouse-idempotent-replay',
} as const;

export const SIGNATURE_WINDOW_MS = 30_000;
const EMPTY_SHA256 = createHash('sha256').digest('hex');

/** The master secret is 32 random bytes. */
export const MASTER_SECRET_BYTES = 32;

/** Per-agent key: HMAC(master, "agent:" + agentId). An MCP server only ever sees this. */
export function deriveAgentKey(master: Buffer, agentId: string): Buffer {
  return createHmac('sha256', master).update(`agent:${agentId}`).digest();
}

/** The admin key (the extension's): its own domain, so no agent id can collide with it. */
export function deriveAdminKey(master: Buffer): Buffer {
  return createHmac('sha256', master).update('role:admin').digest();
}

/** A session's key: HMAC(agentKey, "session:" + id). Never sent over the wire. */
export function deriveSessionKey(agentKey: Buffer, sessionId: string): Buffer {
  return createHmac('sha256', agentKey).update(`session:${sessionId}`).digest();
}

/** One-shot SHA-256 where Node has it (21.7+): no Hash object per call. */
const oneShot = (
  crypto as {
    hash?: ((alg: string, data: Buffer | string, enc: 'hex') => string) &
      ((alg: string, data: Buffer | string, enc: 'buffer') => Buffer);
  }
).hash;

export function bodyHash(body: Buffer | string | undefined): string {
  if (body === undefined || body.length === 0) return EMPTY_SHA256;
  return oneShot ? oneShot('sha256', body, 'hex') : createHash('sha256').update(body).digest('hex');
}

const SHA256_BLOCK = 64;
/** Scratch space for HmacKey: the padded key block and the message (or inner hash) after it. */
let scratch = Buffer.alloc(SHA256_BLOCK + 1024);

/**
 * HMAC-SHA256 built from its definition (RFC 2104), H((K ^ opad) || H((K ^ ipad) || m)), with the
 * key's work done once: the two padded key blocks are kept, and each signature is two one-shot
 * hashes over a reused buffer, with no Hmac or Hash object made per request. Equal to
 * createHmac('sha256', key) for every key and message (a property test holds it to that).
 */
export class HmacKey {
  private readonly ipad: Buffer;
  private readonly opad: Buffer;
  private readonly key: Buffer;

  constructor(key: Buffer) {
    this.key = Buffer.from(key);
    const k = key.length > SHA256_BLOCK ? createHash('sha256').update(key).digest() : key;
    this.ipad = Buffer.alloc(SHA256_BLOCK, 0x36);
    this.opad = Buffer.alloc(SHA256_BLOCK, 0x5c);
    for (let i = 0; i < k.length; i++) {
      this.ipad[i]! ^= k[i]!;
      this.opad[i]! ^= k[i]!;
    }
  }

  digest(message: string | Buffer): Buffer {
    if (!oneShot) return createHmac('sha256', this.key).update(message).digest();
    // Strings are hashed as UTF-8, as Hmac.update does.
    const len = typeof message === 'string' ? Buffer.byteLength(message) : message.length;
    if (scratch.length < SHA256_BLOCK + Math.max(len, 32)) scratch = Buffer.alloc(2 * (SHA256_BLOCK + len));
    this.ipad.copy(scratch, 0);
    if (typeof message === 'string') scratch.write(message, SHA256_BLOCK, 'utf8');
    else message.copy(scratch, SHA256_BLOCK);
    const inner = oneShot('sha256', scratch.subarray(0, SHA256_BLOCK + len), 'buffer');
    this.opad.copy(scratch, 0);
    inner.copy(scratch, SHA256_BLOCK);
    return oneShot('sha256', scratch.subarray(0, SHA256_BLOCK + 32), 'buffer');
  }
}

/** What is signed: method, path with query exactly as sent, timestamp, nonce and the body's hash. */
export function canonicalString(
  method: string,
  pathAndQuery: string,
  ts: string,
  nonce: string,
  bodySha256: string,
): string {
  return `LH1\n${method.toUpperCase()}\n${pathAndQuery}\n${ts}\n${nonce}\n${bodySha256}`;
}

export function sign(key: Buffer, canonical: string): string {
  return createHmac('sha256', key).update(canonical).digest('hex');
}

/** Constant-time check of a hex signature; false for anything malformed. */
export function verifySignature(key: Buffer | HmacKey, canonical: string, signatureHex: string): boolean {
  if (signatureHex.length !== 64) return false;
  // Hex decoding stops at the first character that is not hex: 32 bytes means all 64 were.
  const given = Buffer.from(signatureHex, 'hex');
  if (given.length !== 32) return false;
  const expected =
    key instanceof HmacKey ? key.digest(canonical) : createHmac('sha256', key).update(canonical).digest();
  return timingSafeEqual(expected, given);
}

export function newNonce(): string {
  return randomBytes(16).toString('hex');
}

export interface SignedHeaders {
  [Headers.timestamp]: string;
  [Headers.nonce]: string;
  [Headers.signature]: string;
}

export function signRequest(
  key: Buffer,
  method: string,
  pathAndQuery: string,
  body: Buffer | string | undefined,
  now = Date.now(),
): SignedHeaders {
  const ts = String(now);
  const nonce = newNonce();
  const signature = sign(key, canonicalString(method, pathAndQuery, ts, nonce, bodyHash(body)));
  return { [Headers.timestamp]: ts, [Headers.nonce]: nonce, [Headers.signature]: signature };
}

/** Reads a key or secret file: 64 hex characters, or at least 32 raw bytes. */
export function parseKeyMaterial(raw: Buffer, what: string): Buffer {
  const text = raw.toString('utf8').trim();
  if (/^[0-9a-fA-F]{64,}$/.test(text) && text.length % 2 === 0) return Buffer.from(text, 'hex');
  if (raw.length >= MASTER_SECRET_BYTES && !/^[\x20-\x7e\s]*$/.test(raw.toString('latin1'))) return raw;
  throw new Error(
    `${what} must hold 64 hex characters (32 bytes); it holds ${raw.length} bytes of another form`,
  );
}
