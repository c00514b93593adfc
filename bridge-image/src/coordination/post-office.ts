import { randomBytes } from 'node:crypto';
import type { Collaboration, Message } from '../../protocol/index.js';
import type { Claim, EventStore } from '../store/event-store.js';

export class CoordinationError extends Error {
  override name = 'CoordinationError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

interface Stored extends Omit<Message, 'acked'> {
  ackedBy: Set<string>;
}

/**
 * Messages between agents and the collaborations that group them. Each message is an event, so it
 * is pushed to connected agents by the event stream and waits in the store for offline ones.
 */
export class PostOffice {
  private readonly messages: Stored[] = [];
  private readonly byId = new Map<string, Stored>();
  private readonly collaborations = new Map<string, Collaboration>();

  constructor(private readonly store: EventStore) {
    store.replay({ types: ['message.*', 'collaboration.*'] }, (e) =>
      this.reduce(e.type, e.data, e.seq, e.agentId),
    );
  }

  private reduce(type: string, data: unknown, seq: number, agentId: string): void {
    if (type === 'message.sent') {
      const m = { ...(data as Omit<Message, 'acked' | 'seq'>), seq, ackedBy: new Set<string>() };
      this.messages.push(m);
      this.byId.set(m.id, m);
    } else if (type === 'message.acked') {
      this.byId.get((data as { id: string }).id)?.ackedBy.add(agentId);
    } else if (type === 'collaboration.started') {
      const c = data as Collaboration;
      this.collaborations.set(c.name, c);
    }
  }

  private async record(
    type: string,
    agentId: string,
    stream: string,
    data: object,
    claim: Claim | undefined,
  ): Promise<number> {
    const [e] = await this.store.append({ stream, agentId, events: [{ type, data }], claim });
    this.reduce(type, data, e!.seq, agentId);
    return e!.seq;
  }

  async send(
    from: string,
    q: {
      to: 'all' | string[];
      body: string;
      thread?: string | undefined;
      collaboration?: string | undefined;
    },
    claim?: Claim,
  ): Promise<Message> {
    let to = q.to;
    if (q.collaboration !== undefined) {
      const c = this.collaborations.get(q.collaboration);
      if (!c) throw new CoordinationError(404, `no collaboration "${q.collaboration}"`);
      if (!c.members.includes(from) && c.startedBy !== from) {
        throw new CoordinationError(403, `you are not a member of "${q.collaboration}"`);
      }
      to = c.members.filter((m) => m !== from);
    }
    if (q.thread !== undefined && !this.byId.has(q.thread))
      throw new CoordinationError(404, `thread: no message ${q.thread}`);
    const id = randomBytes(8).toString('hex');
    const m = {
      id,
      from,
      to,
      body: q.body,
      thread: q.thread ?? id,
      collaboration: q.collaboration ?? null,
      sentAt: new Date().toISOString(),
    };
    const seq = await this.record('message.sent', from, 'messages', m, claim);
    return { ...m, seq, acked: false };
  }

  private addressedTo(m: Stored, agent: string): boolean {
    return m.from !== agent && (m.to === 'all' || m.to.includes(agent));
  }

  inbox(agent: string, opts: { unackedOnly: boolean; thread?: string | undefined }): Message[] {
    return this.messages
      .filter((m) => this.addressedTo(m, agent) || (opts.thread !== undefined && m.from === agent))
      .filter((m) => opts.thread === undefined || m.thread === opts.thread)
      .filter((m) => !opts.unackedOnly || !m.ackedBy.has(agent) || m.from === agent)
      .map(({ ackedBy, ...m }) => ({ ...m, acked: ackedBy.has(agent) }));
  }

  async ack(agent: string, id: string, claim?: Claim): Promise<number> {
    const m = this.byId.get(id);
    if (!m || !this.addressedTo(m, agent)) throw new CoordinationError(404, `no message ${id} for you`);
    return this.record('message.acked', agent, 'messages', { id }, claim);
  }

  async startCollaboration(
    by: string,
    q: { name: string; objective: string; members: string[] },
    claim?: Claim,
  ): Promise<Collaboration> {
    if (this.collaborations.has(q.name))
      throw new CoordinationError(409, `collaboration "${q.name}" already exists`);
    const c: Collaboration = {
      name: q.name,
      objective: q.objective,
      members: [...new Set([by, ...q.members])],
      startedBy: by,
      startedAt: new Date().toISOString(),
    };
    await this.record('collaboration.started', by, `collaboration:${q.name}`, c, claim);
    return c;
  }

  listCollaborations(): Collaboration[] {
    return [...this.collaborations.values()];
  }
}
