import fs from 'node:fs';
import path from 'node:path';
import { AgentId, RESERVED_AGENT_IDS } from '../protocol/index.js';

/** Where `bridge.js key` writes agent keys: beside the master secret. */
export const keysDirOf = (secretFile: string): string => path.join(path.dirname(secretFile), 'keys');

/** The agents that have a key file in `dir` (`<agent-id>.key`); none when there is no such folder. */
export function keyedAgents(dir: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .filter((n) => n.endsWith('.key'))
    .map((n) => n.slice(0, -'.key'.length))
    .filter((id) => AgentId.safeParse(id).success && !RESERVED_AGENT_IDS.has(id))
    .sort();
}
