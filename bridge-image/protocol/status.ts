import { z } from 'zod';

export const Health = z.object({ status: z.literal('ok'), uptimeSeconds: z.number() });

export const Ready = z.object({
  ready: z.boolean(),
  store: z.object({ open: z.boolean(), schemaVersion: z.number().int(), migrations: z.literal('done') }),
  fuse: z.object({
    enabled: z.boolean(),
    mounted: z.boolean(),
    reason: z.string().nullable(),
    /** Where the view is (or is to be) mounted, as the bridge sees it; null without FUSE. */
    mountPoint: z.string().nullable(),
  }),
  draining: z.boolean(),
});
export type Ready = z.infer<typeof Ready>;

export const Status = z.object({
  version: z.string(),
  startedAt: z.string(),
  uptimeSeconds: z.number(),
  lastSeq: z.number().int(),
  eventCount: z.number().int(),
  storeBytes: z.number().int(),
  activeSessions: z.number().int(),
  connectedAgents: z.number().int(),
  workspace: z.string(),
  you: z.object({ agentId: z.string(), role: z.string(), sessionId: z.string() }),
});
export type Status = z.infer<typeof Status>;

export const BackupRequest = z.object({
  name: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/, 'name: a plain file name, no slashes')
    .optional(),
});
export const BackupResponse = z.object({ path: z.string(), bytes: z.number().int() });
export type BackupResponse = z.infer<typeof BackupResponse>;
