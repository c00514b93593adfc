import {
  CommandEventTypes,
  ErrorCode,
  ExecutedRequest,
  ValidateRequest,
  type ValidateResponse,
} from '../../../protocol/index.js';
import type { BridgeServices } from '../../context.js';
import { validate, type DecisionCache, type PolicyWatcher } from '../../validation/index.js';
import { parseJson } from '../body.js';
import type { ReviewDesk } from '../../coordination/review-desk.js';
import { HttpError } from '../errors.js';
import { ok, type Route } from '../router.js';

const ALL = ['admin', 'agent', 'expert'] as const;
/** Inputs are kept in the log for review, but a pasted file must not bloat every event. */
const MAX_RECORDED_INPUT = 8 * 1024;

function recorded(input: unknown): unknown {
  const text = JSON.stringify(input ?? null);
  return text.length <= MAX_RECORDED_INPUT
    ? input
    : { truncated: true, prefix: text.slice(0, MAX_RECORDED_INPUT) };
}

export function validationRoutes(
  svc: BridgeServices,
  policy: PolicyWatcher,
  cache: DecisionCache,
  reviews: ReviewDesk,
): Route[] {
  return [
    {
      method: 'POST',
      path: '/v1/validate',
      access: ALL,
      handler: async ({ body, session, claim }) => {
        const s = session!;
        const req = parseJson(body, ValidateRequest);
        const agentId = req.agentId ?? s.agentId;
        if (agentId !== s.agentId && s.role !== 'admin') {
          throw new HttpError(
            403,
            ErrorCode.forbidden,
            `agentId: only admin may validate for another agent (${agentId})`,
          );
        }
        const outcome = validate(
          {
            tool: req.tool,
            input: req.input,
            agentId,
            ...(req.cwd ? { cwd: req.cwd } : {}),
            ...(req.isolation ? { isolation: req.isolation } : {}),
          },
          { workspace: svc.config.workspace, policy: policy.current, cache },
        );
        const answer: ValidateResponse = {
          decision: outcome.decision,
          confidence: outcome.confidence,
          reason: outcome.reason,
          rule: outcome.rule,
          cached: outcome.cached,
        };
        if (outcome.decision === 'escalate') {
          const r = await reviews.request(
            {
              agentId,
              tool: req.tool,
              input: recorded(req.input),
              reason: outcome.reason,
              rule: outcome.rule,
            },
            claim,
          );
          answer.reviewId = r.id;
        }
        await svc.store.append({
          stream: `agent:${agentId}`,
          agentId,
          events: [
            {
              type: CommandEventTypes.received,
              data: { tool: req.tool, input: recorded(req.input), cwd: req.cwd ?? null },
            },
            { type: CommandEventTypes.validated, data: { tool: req.tool, ...answer } },
          ],
          claim,
        });
        return ok(answer);
      },
    },
    {
      method: 'POST',
      path: '/v1/commands/executed',
      access: ['agent', 'expert'],
      handler: async ({ body, session, claim }) => {
        const req = parseJson(body, ExecutedRequest);
        const [e] = await svc.store.append({
          stream: `agent:${session!.agentId}`,
          agentId: session!.agentId,
          events: [{ type: CommandEventTypes.executed, data: { ...req, input: recorded(req.input) } }],
          claim,
        });
        return ok({ seq: e!.seq }, 201);
      },
    },
  ];
}
