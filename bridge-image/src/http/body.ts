import { isUtf8 } from 'node:buffer';
import type { IncomingMessage } from 'node:http';
import type { z } from 'zod';
import { ErrorCode, MAX_JSON_DEPTH, nestsDeeperThan, tooDeepMessage } from '../../protocol/index.js';
import { HttpError, invalid } from './errors.js';

/** Reads the whole body, refusing it as soon as it passes `limit` bytes. */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > limit) {
    return Promise.reject(tooLarge(limit));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (c: Buffer) => {
      if (failed) return;
      size += c.length;
      if (size > limit) {
        failed = true;
        chunks.length = 0;
        reject(tooLarge(limit));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (!failed) resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    });
    req.on('error', (e) => {
      if (!failed) reject(e);
    });
  });
}

function tooLarge(limit: number): HttpError {
  return new HttpError(
    413,
    ErrorCode.bodyTooLarge,
    `request body is larger than the limit of ${limit} bytes`,
    { limit },
  );
}

/** Decodes UTF-8 strictly and parses JSON, then validates; each failure is a 400 naming what was wrong. */
export function parseJson<S extends z.ZodType>(body: Buffer, schema: S, what = 'request body'): z.infer<S> {
  if (!isUtf8(body)) throw new HttpError(400, ErrorCode.invalidUtf8, `${what} is not valid UTF-8`);
  if (nestsDeeperThan(body)) throw tooDeep(what);
  const text = body.toString('utf8');
  let json: unknown;
  if (text.trim() === '') json = {};
  else {
    try {
      json = JSON.parse(text);
    } catch (e) {
      throw new HttpError(400, ErrorCode.invalidJson, `${what} is not valid JSON: ${(e as Error).message}`);
    }
  }
  const r = schema.safeParse(json);
  if (!r.success) throw invalid(r.error, what);
  return r.data;
}

/** The refusal of a body nested deeper than MAX_JSON_DEPTH (checked before parsing, see json-depth.ts). */
export function tooDeep(what = 'request body'): HttpError {
  return new HttpError(400, ErrorCode.invalidJson, tooDeepMessage(what), { limit: MAX_JSON_DEPTH });
}

export function parseQuery<S extends z.ZodType>(params: URLSearchParams, schema: S): z.infer<S> {
  const obj: Record<string, string> = {};
  for (const [k, v] of params) obj[k] = v;
  const r = schema.safeParse(obj);
  if (!r.success) throw invalid(r.error, 'query');
  return r.data;
}
