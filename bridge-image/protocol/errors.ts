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
