import { randomBytes } from 'node:crypto';
import type Ajv from 'ajv';
import type { Elicitation } from '../../protocol/index.js';
import type { Claim, EventStore } from '../store/event-store.js';
import { CoordinationError } from './post-office.js';

/** Questions from one agent to another whose answers must fit a JSON Schema. */
export class Elicitations {
  private readonly items = new Map<string, Elicitation>();
  private ajvInstance: Ajv | undefined;

  constructor(private readonly store: EventStore) {
    store.replay({ types: ['elicitation.*'] }, (e) =>
      this.items.set((e.data as Elicitation).id, e.data as Elicitation),
    );
  }

  /** ajv (and the schema compiler it brings) is loaded with the first elicitation, not at start. */
  private get ajv(): Ajv {
    if (!this.ajvInstance) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const AjvClass = (require('ajv') as { default: typeof Ajv }).default;
      this.ajvInstance = new AjvClass({ allErrors: true, strict: false });
    }
    return this.ajvInstance;
  }

  private async record(type: string, el: Elicitation, by: string, claim?: Claim): Promise<Elicitation> {
    await this.store.append({
      stream: `elicitation:${el.id}`,
      agentId: by,
      events: [{ type, data: el }],
      claim,
    });
    this.items.set(el.id, el);
    return el;
  }

  private current(el: Elicitation, now = Date.now()): Elicitation {
    return el.state === 'pending' && Date.parse(el.expiresAt) <= now ? { ...el, state: 'expired' } : el;
  }

  async ask(
    from: string,
    q: { to: string; question: string; schema: Record<string, unknown>; ttlMs: number },
    claim?: Claim,
  ) {
    try {
      this.ajv.compile(q.schema);
    } catch (e) {
      throw new CoordinationError(400, `schema: not a usable JSON Schema (${(e as Error).message})`);
    }
    const now = Date.now();
    return this.record(
      'elicitation.asked',
      {
        id: randomBytes(8).toString('hex'),
        from,
        to: q.to,
        question: q.question,
        schema: q.schema,
        state: 'pending',
        action: null,
        content: null,
        askedAt: new Date(now).toISOString(),
        expiresAt: new Date(now + q.ttlMs).toISOString(),
      },
      from,
      claim,
    );
  }

  get(id: string, agent: string, admin: boolean): Elicitation {
    const el = this.items.get(id);
    if (!el || (!admin && el.from !== agent && el.to !== agent))
      throw new CoordinationError(404, `no elicitation ${id}`);
    return this.current(el);
  }

  list(agent: string): Elicitation[] {
    return [...this.items.values()]
      .filter((e) => e.to === agent || e.from === agent)
      .map((e) => this.current(e));
  }

  /** The answer: refused when `accept` content breaks the schema, naming what is wrong. */
  async respond(
    id: string,
    agent: string,
    r: { action: 'accept' | 'decline' | 'cancel'; content?: unknown },
    claim?: Claim,
  ) {
    const el = this.get(id, agent, false);
    if (el.to !== agent) throw new CoordinationError(403, `elicitation ${id} was asked of ${el.to}, not you`);
    if (el.state !== 'pending') throw new CoordinationError(409, `elicitation ${id} is ${el.state}`);
    if (r.action === 'accept') {
      const validate = this.ajv.compile(el.schema);
      if (!validate(r.content)) {
        const why = (validate.errors ?? [])
          .map((e) => `${e.instancePath || 'content'} ${e.message}`)
          .join('; ');
        throw new CoordinationError(400, `content does not match the elicitation's schema: ${why}`);
      }
    }
    return this.record(
      'elicitation.answered',
      { ...el, state: 'answered', action: r.action, content: r.content ?? null },
      agent,
      claim,
    );
  }
}
