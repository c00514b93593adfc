import { randomBytes } from 'node:crypto';
import { AnnotationEventTypes, type Annotation } from '../../protocol/index.js';
import type { Claim, EventStore } from '../store/event-store.js';

export class AnnotationNotFound extends Error {
  override name = 'AnnotationNotFound';
}

/** Notes agents attach to files (optionally to lines), rebuilt from annotation.* events. */
export class AnnotationBook {
  private readonly notes = new Map<string, Annotation>();

  constructor(private readonly store: EventStore) {
    store.replay({ types: ['annotation.*'] }, (e) => this.reduce(e.type, e.data as Annotation));
  }

  private reduce(_type: string, a: Annotation): void {
    this.notes.set(a.id, a);
  }

  private async record(type: string, a: Annotation, by: string, claim?: Claim): Promise<Annotation> {
    await this.store.append({ stream: 'annotations', agentId: by, events: [{ type, data: a }], claim });
    this.reduce(type, a);
    return a;
  }

  add(
    agentId: string,
    path: string,
    note: string,
    lines: { start: number; end: number } | undefined,
    claim?: Claim,
  ) {
    const a: Annotation = {
      id: randomBytes(8).toString('hex'),
      agentId,
      path,
      note,
      lines: lines ?? null,
      createdAt: new Date().toISOString(),
      resolved: false,
      resolvedBy: null,
      resolvedAt: null,
    };
    return this.record(AnnotationEventTypes.added, a, agentId, claim);
  }

  resolve(id: string, by: string, claim?: Claim): Promise<Annotation> {
    const a = this.notes.get(id);
    if (!a) return Promise.reject(new AnnotationNotFound(`no annotation ${id}`));
    if (a.resolved) return Promise.resolve(a);
    return this.record(
      AnnotationEventTypes.resolved,
      { ...a, resolved: true, resolvedBy: by, resolvedAt: new Date().toISOString() },
      by,
      claim,
    );
  }

  list(path?: string, includeResolved = false): Annotation[] {
    return [...this.notes.values()]
      .filter((a) => (path === undefined || a.path === path) && (includeResolved || !a.resolved))
      .sort((x, y) =>
        x.path < y.path ? -1 : x.path > y.path ? 1 : (x.lines?.start ?? 0) - (y.lines?.start ?? 0),
      );
  }
}
