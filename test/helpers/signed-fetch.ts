import {
  Headers as H,
  bodyHash,
  canonicalString,
  newNonce,
  sign,
} from '../../bridge-image/protocol/index.js';

export interface RawOptions {
  method?: string;
  path: string;
  body?: string | Buffer;
  headers?: Record<string, string>;
}

/** Tests read arbitrary fields of the answers; each read is asserted, so a loose type is enough here. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

export async function raw(
  url: string,
  o: RawOptions,
): Promise<{ status: number; json: Json; headers: globalThis.Headers }> {
  const res = await fetch(new URL(o.path, url), {
    method: o.method ?? 'GET',
    headers: o.headers ?? {},
    body: o.body,
  });
  const text = await res.text();
  let json: unknown = undefined;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, json, headers: res.headers };
}

/** Headers for a request signed with `key`; every part can be overridden to forge a bad one. */
export function signedHeaders(
  key: Buffer,
  method: string,
  path: string,
  body: string | Buffer | undefined,
  over: { ts?: number; nonce?: string; client?: string; session?: string; agent?: string } = {},
): Record<string, string> {
  const ts = String(over.ts ?? Date.now());
  const nonce = over.nonce ?? newNonce();
  const h: Record<string, string> = {
    [H.timestamp]: ts,
    [H.nonce]: nonce,
    [H.signature]: sign(key, canonicalString(method, path, ts, nonce, bodyHash(body))),
    [H.client]: over.client ?? 'test-client',
    'user-agent': 'test-agent',
    'content-type': 'application/json',
  };
  if (over.session) h[H.session] = over.session;
  if (over.agent) h[H.agent] = over.agent;
  return h;
}
