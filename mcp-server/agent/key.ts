import fs from 'node:fs';
import path from 'node:path';
import {
  BridgeClient,
  deriveAdminKey,
  deriveAgentKey,
  parseKeyMaterial,
} from '../../bridge-image/protocol/index.js';
import { loadMasterSecret, writeKeyFile } from '../../bridge-image/src/auth/secret.js';
import { keysDirOf } from '../../bridge-image/src/keyed-agents.js';
import { ConfigError } from '../config.js';

/** Where `npm start` (the native bridge) keeps the master secret of a project. */
export const secretFileOf = (project: string): string => path.join(project, '.lighthouse', 'secret');

export interface AgentKey {
  file: string;
  /** The file was made now, from the master secret. */
  made: boolean;
  /** The project's master secret, for a key from the project (native mode): lets us tell the bridge. */
  master: Buffer | undefined;
}

function readableSecret(file: string): Buffer | undefined {
  try {
    return loadMasterSecret(file).secret;
  } catch {
    return undefined;
  }
}

function checkKeyFile(file: string, source: string): void {
  let raw: Buffer;
  try {
    raw = fs.readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ConfigError(
      `${source} ${file}: ${code === 'ENOENT' ? 'no such file' : `cannot be read (${code ?? (e as Error).message})`}`,
    );
  }
  try {
    parseKeyMaterial(raw, `${source} ${file}`);
  } catch (e) {
    throw new ConfigError((e as Error).message);
  }
}

/**
 * The agent's key file: the one given, else the project's `.lighthouse/keys/<id>.key`, made from
 * the project's master secret when it is missing (mode 0600, as `bridge.js key` writes it).
 */
export function agentKey(project: string, agentId: string, given: string | undefined): AgentKey {
  if (given) {
    // A key of its own (the extension's, from its container's secret): the project's secret, if
    // there is one, may belong to another bridge, and a request signed with it would be a bad signature.
    checkKeyFile(given, '--key-file');
    return { file: given, made: false, master: undefined };
  }
  const secretFile = secretFileOf(project);
  const master = readableSecret(secretFile);
  const file = path.join(keysDirOf(secretFile), `${agentId}.key`);
  if (fs.existsSync(file)) {
    checkKeyFile(file, 'the key file');
    return { file, made: false, master };
  }
  if (!master) {
    throw new ConfigError(
      `no key for agent "${agentId}": ${file} does not exist and there is no readable master secret at ${secretFile}. ` +
        'Run this in the project the bridge serves (or pass --project), make the key with `npm run key -- ' +
        `${agentId}\` there, or pass --key-file (the extension's "Lighthouse: Open Agent Terminal" passes its own)`,
    );
  }
  writeKeyFile(file, deriveAgentKey(master, agentId));
  return { file, made: true, master };
}

/**
 * Has the bridge know the agent (admin-signed, as `bridge.js key` does), so its shadow shows in the
 * view at once. Known agents are left as they are; returns why it could not, or undefined.
 */
export async function tellBridge(
  bridgeUrl: string,
  master: Buffer,
  agentId: string,
): Promise<string | undefined> {
  const client = new BridgeClient({
    baseUrl: bridgeUrl,
    agentId: 'admin',
    role: 'admin',
    key: deriveAdminKey(master),
    timeoutMs: 5000,
    userAgent: 'lighthouse-agent/0.1',
  });
  try {
    await client.addAgent(agentId);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  } finally {
    await client.close().catch(() => undefined);
  }
}
