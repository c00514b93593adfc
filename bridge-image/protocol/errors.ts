import { z } from 'zod';
export { BridgeError, ErrorCode } from './bridge-error.js';

/** Every error the bridge returns has this body, whatever the status. */
export const ErrorBody = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z.unknown().optional(),
  }),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

/**
 * Where in a value a zod issue is, written as the caller would write it: `events[0].type`,
 * `rules[2].match.command`. Every message that names a bad field spells it this way.
 */
export function issuePath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const k of path) out += typeof k === 'number' ? `[${k}]` : out ? `.${String(k)}` : String(k);
  return out;
}
