import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Role } from '../../protocol/index.js';
import type { Session } from '../auth/sessions.js';
import type { Claim } from '../store/event-store.js';

/** Who may call a route: anyone, the session-open handshake, or sessions of these roles. */
export type Access = 'public' | 'open' | readonly Role[];

export interface RouteContext {
  req: IncomingMessage;
  res: ServerResponse;
  pathname: string;
  query: URLSearchParams;
  params: Record<string, string>;
  body: Buffer;
  /** Present on every route whose access is a role list. */
  session: Session | undefined;
  reqId: string;
  /**
   * The request's idempotency key, on routes marked `remembersReply`: such a route has the store
   * remember its reply in the same transaction as its write, and says so with `remembered`.
   */
  idempotencyKey: string | undefined;
  /**
   * On keyed writes to every other route: what the handler passes to each append it makes for the
   * request (through the subsystem it calls), so the key is marked carried out in the same commit.
   */
  claim: Claim | undefined;
}

export interface Reply {
  status: number;
  body: unknown;
  /** Already remembered under the request's idempotency key (see RouteContext.idempotencyKey). */
  remembered?: boolean;
}

export interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  access: Access;
  /** Overrides the bridge's body limit for this route. */
  bodyLimit?: number;
  /** The handler writes the response itself (streams); the pipeline only reads the body. */
  streaming?: boolean;
  /** The handler remembers its own reply under the idempotency key, atomically with its write. */
  remembersReply?: boolean;
  handler: (ctx: RouteContext) => Promise<Reply | void> | Reply | void;
}

export const ok = (body: unknown, status = 200): Reply => ({ status, body });

interface Compiled {
  route: Route;
  parts: string[];
}

export type Match = { route: Route; params: Record<string, string> } | { allowed: string[] } | undefined;

/** Literal segments and `:param` segments; a path that exists under another method gives 405. */
export class Router {
  private readonly compiled: Compiled[] = [];

  add(...routes: Route[]): void {
    for (const route of routes) this.compiled.push({ route, parts: route.path.split('/').slice(1) });
  }

  match(method: string, pathname: string): Match {
    const segs = pathname.split('/').slice(1);
    const allowed: string[] = [];
    for (const c of this.compiled) {
      if (c.parts.length !== segs.length) continue;
      const params: Record<string, string> = {};
      let hit = true;
      for (let i = 0; i < segs.length; i++) {
        const p = c.parts[i]!;
        const s = segs[i]!;
        if (p.startsWith(':')) {
          try {
            params[p.slice(1)] = decodeURIComponent(s);
          } catch {
            hit = false;
            break;
          }
        } else if (p !== s) {
          hit = false;
          break;
        }
      }
      if (!hit) continue;
      if (c.route.method === method) return { route: c.route, params };
      allowed.push(c.route.method);
    }
    return allowed.length ? { allowed } : undefined;
  }
}
