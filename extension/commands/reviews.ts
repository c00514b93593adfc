import * as vscode from 'vscode';
import type { ReviewNode } from '../tree/reviews-tree.js';
import { command, requireClient, type CommandContext } from './context.js';

type ReviewTarget = ReviewNode | { id: string; reason?: string } | undefined;

function reviewId(t: ReviewTarget): string {
  if (!t) throw new Error('pick a review in the Reviews view');
  if ('kind' in t) {
    if (t.kind !== 'review') throw new Error('this is a question, not a review: use "Answer Question"');
    return t.review.id;
  }
  return t.id;
}

async function answer(
  ctx: CommandContext,
  target: ReviewTarget,
  decision: 'approved' | 'blocked',
  reasonArg?: string,
) {
  const client = requireClient(ctx);
  const id = reviewId(target);
  const reason =
    reasonArg ??
    (target && !('kind' in target) ? target.reason : undefined) ??
    (await vscode.window.showInputBox({
      title: decision === 'approved' ? 'Approve: why?' : 'Deny: why? (the agent sees this)',
      value: decision === 'approved' ? 'approved by the developer' : '',
      validateInput: (v) => (v.trim() ? undefined : 'say why, in a few words'),
    }));
  if (!reason) return undefined;
  const r = await client.answerReview(id, { decision, reason });
  ctx.trees.reviews.refresh();
  return r;
}

export function registerReviewCommands(ctx: CommandContext): vscode.Disposable[] {
  return [
    command(ctx, 'lighthouse.approveReview', (t: ReviewTarget, reason?: string) =>
      answer(ctx, t, 'approved', reason),
    ),
    command(ctx, 'lighthouse.denyReview', (t: ReviewTarget, reason?: string) =>
      answer(ctx, t, 'blocked', reason),
    ),
    command(
      ctx,
      'lighthouse.answerQuestion',
      async (t: ReviewNode | { id: string; action: 'accept' | 'decline'; content?: unknown }) => {
        const client = requireClient(ctx);
        if (!t) throw new Error('pick a question in the Reviews view');
        if (!('kind' in t)) return client.respondElicitation(t.id, { action: t.action, content: t.content });
        if (t.kind !== 'elicitation') throw new Error('this is a review: use Approve or Deny');
        const q = t.elicitation;
        const action = await vscode.window.showQuickPick(['Answer', 'Decline'], {
          title: q.question.slice(0, 200),
        });
        if (!action) return undefined;
        if (action === 'Decline') return client.respondElicitation(q.id, { action: 'decline' });
        const text = await vscode.window.showInputBox({
          title: "Your answer, as JSON matching the question's schema",
          prompt: JSON.stringify(q.schema),
          validateInput: (v) => {
            try {
              JSON.parse(v);
              return undefined;
            } catch (e) {
              return `not JSON: ${(e as Error).message}`;
            }
          },
        });
        if (text === undefined) return undefined;
        const r = await client.respondElicitation(q.id, { action: 'accept', content: JSON.parse(text) });
        ctx.trees.reviews.refresh();
        return r;
      },
    ),
  ];
}
