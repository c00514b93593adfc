import { z } from 'zod';
import { WorkspacePath } from '../bridge-image/protocol/index.js';

/** A workspace path argument, described with the rules a model must follow. */
export function pathInput(what: string) {
  return WorkspacePath.describe(
    `${what}, relative to the workspace root with "/" separators, e.g. "src/index.ts" (no "..", not absolute).`,
  );
}

/** Lease and annotation ids are short tokens; anything else is a mistake, refused before it reaches a URL. */
export const ObjectId = z.string().regex(/^[A-Za-z0-9_-]{1,128}$/, 'an id as returned by the bridge');
