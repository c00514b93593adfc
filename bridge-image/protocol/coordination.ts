import { z } from 'zod';
import { AgentId, SafeName, SafeText } from './events.js';

// ---- reviews: escalated validations, answered by an expert or the developer ----

export const ReviewState = z.enum(['pending-expert', 'pending-developer', 'answered', 'expired']);

export const Review = z.object({
  id: z.string(),
  agentId: z.string(),
  tool: z.string(),
  input: z.unknown(),
  reason: z.string(),
  rule: z.string().nullable(),
  /** What an expert must be able to judge ("shell", "files"). */
  capability: z.string(),
  state: ReviewState,
  /** The final answer: set once answered or expired. */
  decision: z.enum(['approved', 'blocked']).nullable(),
  answeredBy: z.string().nullable(),
  answerReason: z.string().nullable(),
  requestedAt: z.string(),
  /** When the current stage gives up: the expert's, then the developer's deadline. */
  deadline: z.string(),
});
export type Review = z.infer<typeof Review>;

export const ReviewAnswer = z.object({
  decision: z.enum(['approved', 'blocked']),
  reason: SafeText(2000).min(1, 'reason: say why'),
});
export type ReviewAnswer = z.infer<typeof ReviewAnswer>;

export const ReviewList = z.object({ reviews: z.array(Review) });

export const ReviewEventTypes = {
  requested: 'review.requested',
  escalated: 'review.escalated',
  answered: 'review.answered',
  expired: 'review.expired',
} as const;

// ---- messages between agents ----

export const SendMessage = z.object({
  /** Agent ids, or "all". */
  to: z.union([z.literal('all'), z.array(AgentId).min(1, 'to: name at least one agent').max(100)]),
  body: SafeText(20_000).min(1, 'body: must not be empty'),
  /** Reply in a thread: the id of the message that started it. */
  thread: SafeName(64).optional(),
  /** Send to every member of a collaboration instead of `to`. */
  collaboration: SafeName(64).optional(),
});
export type SendMessage = z.input<typeof SendMessage>;

export const Message = z.object({
  id: z.string(),
  from: z.string(),
  to: z.union([z.literal('all'), z.array(z.string())]),
  body: z.string(),
  thread: z.string(),
  collaboration: z.string().nullable(),
  sentAt: z.string(),
  seq: z.number().int(),
  acked: z.boolean(),
});
export type Message = z.infer<typeof Message>;

export const Inbox = z.object({ messages: z.array(Message) });

// ---- elicitation: a question to another agent, answered against a JSON Schema ----

export const ElicitRequest = z.object({
  to: AgentId,
  question: SafeText(10_000).min(1, 'question: must not be empty'),
  /** JSON Schema the answer's content must satisfy. */
  schema: z.record(z.string(), z.unknown()),
  ttlMs: z
    .number()
    .int()
    .min(1000, 'ttlMs: at least 1000')
    .max(7 * 24 * 3600_000)
    .default(3600_000),
});
export type ElicitRequest = z.input<typeof ElicitRequest>;

export const ElicitResponse = z.object({
  action: z.enum(['accept', 'decline', 'cancel']),
  content: z.unknown().optional(),
});
export type ElicitResponse = z.infer<typeof ElicitResponse>;

export const Elicitation = z.object({
  id: z.string(),
  from: z.string(),
  to: z.string(),
  question: z.string(),
  schema: z.record(z.string(), z.unknown()),
  state: z.enum(['pending', 'answered', 'expired']),
  action: z.enum(['accept', 'decline', 'cancel']).nullable(),
  content: z.unknown(),
  askedAt: z.string(),
  expiresAt: z.string(),
});
export type Elicitation = z.infer<typeof Elicitation>;

export const ElicitationList = z.object({ elicitations: z.array(Elicitation) });

// ---- tasks and collaborations ----

export const TaskRequest = z.object({
  to: AgentId,
  title: SafeName(500).min(1, 'title: must not be empty'),
  description: SafeText(20_000).default(''),
  priority: z.enum(['low', 'normal', 'high', 'urgent']).default('normal'),
});
export type TaskRequest = z.input<typeof TaskRequest>;

export const TaskStatus = z.enum([
  'dispatched',
  'accepted',
  'in_progress',
  'blocked',
  'done',
  'failed',
  'cancelled',
]);

export const TaskUpdate = z.object({ status: TaskStatus, note: SafeText(5000).optional() });
export type TaskUpdate = z.input<typeof TaskUpdate>;

export const Task = z.object({
  id: z.string(),
  from: z.string(),
  to: z.string(),
  title: z.string(),
  description: z.string(),
  priority: z.enum(['low', 'normal', 'high', 'urgent']),
  status: TaskStatus,
  notes: z.array(
    z.object({ by: z.string(), status: TaskStatus, note: z.string().nullable(), at: z.string() }),
  ),
  createdAt: z.string(),
});
export type Task = z.infer<typeof Task>;

export const TaskList = z.object({ tasks: z.array(Task) });

export const CollaborationRequest = z.object({
  name: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'name: lowercase letters, digits, "_" or "-", up to 64'),
  objective: z.string().min(1, 'objective: must not be empty').max(5000),
  members: z.array(AgentId).min(1, 'members: at least one agent').max(100),
});
export type CollaborationRequest = z.input<typeof CollaborationRequest>;

export const Collaboration = z.object({
  name: z.string(),
  objective: z.string(),
  members: z.array(z.string()),
  startedBy: z.string(),
  startedAt: z.string(),
});
export type Collaboration = z.infer<typeof Collaboration>;
