import * as vscode from 'vscode';
import type { Elicitation, Event, Review } from '../../bridge-image/protocol/index.js';
import { DEVELOPER_ID, type BridgeController } from '../bridge/controller.js';
import { treeRefresher } from '../util/tree-refresh.js';

export type ReviewNode =
  { kind: 'review'; review: Review } | { kind: 'elicitation'; elicitation: Elicitation };

/** A review or question that has just started waiting for the developer, if this event is one. */
export function arrivedForDeveloper(e: Event): ReviewNode | undefined {
  if (
    (e.type === 'review.requested' || e.type === 'review.escalated') &&
    (e.data as Review).state === 'pending-developer'
  ) {
    return { kind: 'review', review: e.data as Review };
  }
  if (e.type === 'elicitation.asked' && (e.data as Elicitation).to === DEVELOPER_ID) {
    return { kind: 'elicitation', elicitation: e.data as Elicitation };
  }
  return undefined;
}

/** Reviews: escalated validations and agents' questions waiting for the developer. */
export class ReviewsTree implements vscode.TreeDataProvider<ReviewNode> {
  private readonly changed = new vscode.EventEmitter<ReviewNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly arrivedEmitter = new vscode.EventEmitter<ReviewNode>();
  /** Fired for each review or question that starts waiting for the developer. */
  readonly onDidArrive = this.arrivedEmitter.event;
  private readonly refreshSoon = treeRefresher(() => this.changed.fire(undefined));
  pendingCount = 0;

  constructor(private readonly bridge: BridgeController) {
    bridge.events.onEvents((batch) => {
      let relevant = false;
      for (const e of batch) {
        if (e.type.startsWith('review.') || e.type.startsWith('elicitation.')) relevant = true;
        const arrived = arrivedForDeveloper(e);
        if (arrived) this.arrivedEmitter.fire(arrived);
      }
      if (relevant) this.refreshSoon();
    });
    bridge.onDidChangeState(() => this.refreshSoon());
  }

  refresh(): void {
    this.changed.fire(undefined);
  }

  async getChildren(node?: ReviewNode): Promise<ReviewNode[]> {
    const client = this.bridge.client;
    if (node || !client) return [];
    const [reviews, elicitations] = await Promise.all([
      client.reviews('pending-developer'),
      client.elicitations(),
    ]);
    const out: ReviewNode[] = [
      ...reviews.reviews.map((review): ReviewNode => ({ kind: 'review', review })),
      ...elicitations.elicitations
        .filter((e) => e.to === DEVELOPER_ID && e.state === 'pending')
        .map((elicitation): ReviewNode => ({ kind: 'elicitation', elicitation })),
    ];
    this.pendingCount = out.length;
    return out;
  }

  getTreeItem(node: ReviewNode): vscode.TreeItem {
    if (node.kind === 'review') {
      const r = node.review;
      const item = new vscode.TreeItem(`${r.tool}: ${summarize(r.input)}`);
      item.id = `review:${r.id}`;
      item.description = `${r.agentId} · ${r.reason}`;
      item.tooltip = new vscode.MarkdownString(
        `**${r.agentId}** wants to run \`${r.tool}\`\n\n\`\`\`json\n${JSON.stringify(r.input, null, 2)}\n\`\`\`\n\n` +
          `Why it asks: ${r.reason}${r.rule ? ` (rule ${r.rule})` : ''}\n\nDecide before ${new Date(r.deadline).toLocaleTimeString()}`,
      );
      item.iconPath = new vscode.ThemeIcon('question');
      item.contextValue = 'review';
      return item;
    }
    const q = node.elicitation;
    const item = new vscode.TreeItem(q.question.split('\n')[0]!.slice(0, 120));
    item.id = `elicitation:${q.id}`;
    item.description = `asked by ${q.from}`;
    item.tooltip = new vscode.MarkdownString(
      `**${q.from}** asks:\n\n${q.question}\n\nAnswer schema:\n\`\`\`json\n${JSON.stringify(q.schema, null, 2)}\n\`\`\``,
    );
    item.iconPath = new vscode.ThemeIcon('comment-discussion');
    item.contextValue = 'elicitation';
    return item;
  }
}

function summarize(input: unknown): string {
  if (input && typeof input === 'object') {
    const o = input as Record<string, unknown>;
    const v = o.command ?? o.file_path ?? o.path;
    if (typeof v === 'string') return v.length > 100 ? `${v.slice(0, 100)}…` : v;
  }
  const s = JSON.stringify(input) ?? '';
  return s.length > 100 ? `${s.slice(0, 100)}…` : s;
}
