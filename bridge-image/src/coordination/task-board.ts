import { randomBytes } from 'node:crypto';
import type { Task } from '../../protocol/index.js';
import type { Claim, EventStore } from '../store/event-store.js';
import { CoordinationError } from './post-office.js';

/** Tasks dispatched to agents, with their status history. */
export class TaskBoard {
  private readonly tasks = new Map<string, Task>();

  constructor(private readonly store: EventStore) {
    store.replay({ types: ['task.*'] }, (e) => this.tasks.set((e.data as Task).id, e.data as Task));
  }

  private async record(type: string, t: Task, by: string, claim?: Claim): Promise<Task> {
    await this.store.append({ stream: `task:${t.id}`, agentId: by, events: [{ type, data: t }], claim });
    this.tasks.set(t.id, t);
    return t;
  }

  dispatch(
    from: string,
    q: { to: string; title: string; description: string; priority: Task['priority'] },
    claim?: Claim,
  ) {
    const now = new Date().toISOString();
    return this.record(
      'task.dispatched',
      { id: randomBytes(8).toString('hex'), from, ...q, status: 'dispatched', notes: [], createdAt: now },
      from,
      claim,
    );
  }

  update(id: string, by: string, status: Task['status'], note: string | undefined, claim?: Claim) {
    const t = this.tasks.get(id);
    if (!t) throw new CoordinationError(404, `no task ${id}`);
    if (by !== t.to && by !== t.from)
      throw new CoordinationError(403, `task ${id} is between ${t.from} and ${t.to}`);
    const entry = { by, status, note: note ?? null, at: new Date().toISOString() };
    return this.record('task.updated', { ...t, status, notes: [...t.notes, entry] }, by, claim);
  }

  list(agent: string): Task[] {
    return [...this.tasks.values()].filter((t) => t.to === agent || t.from === agent);
  }
}
