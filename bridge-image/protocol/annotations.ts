import { z } from 'zod';

import { SafeText } from './events.js';
import { WorkspacePath } from './shadow.js';
export { AnnotationEventTypes } from './event-types.js';

export const LineRange = z
  .object({ start: z.number().int().min(1, 'lines.start: lines count from 1'), end: z.number().int().min(1) })
  .refine((r) => r.end >= r.start, { message: 'lines.end must not be before lines.start', path: ['end'] });

export const AnnotationRequest = z.object({
  path: WorkspacePath,
  note: SafeText(10_000).min(1, 'note: must not be empty'),
  lines: LineRange.optional(),
});
export type AnnotationRequest = z.input<typeof AnnotationRequest>;

export const Annotation = z.object({
  id: z.string(),
  agentId: z.string(),
  path: z.string(),
  note: z.string(),
  lines: z.object({ start: z.number().int(), end: z.number().int() }).nullable(),
  createdAt: z.string(),
  resolved: z.boolean(),
  resolvedBy: z.string().nullable(),
  resolvedAt: z.string().nullable(),
});
export type Annotation = z.infer<typeof Annotation>;

export const AnnotationList = z.object({ annotations: z.array(Annotation) });

export const AnnotationQuery = z.object({
  path: WorkspacePath.optional(),
  includeResolved: z.enum(['true', 'false']).optional(),
});
