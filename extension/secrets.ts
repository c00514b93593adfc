import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type * as vscode from 'vscode';
import { deriveAgentKey, MASTER_SECRET_BYTES } from '../bridge-image/protocol/signing.js';
import { loadProtocol } from './util/protocol.js';

/**
 * The master secret lives in VS Code's SecretStorage, one per workspace; it reaches the container
 * as a file. Agents get only their derived key, as a file with mode 0600 in global storage.
 */
export class Secrets {
  constructor(
    private readonly storage: vscode.SecretStorage,
    private readonly keysDir: string,
  ) {}

  private name(workspaceId: string): string {
    return `lighthouse.masterSecret.${workspaceId}`;
  }

  /** The workspace's master secret, made (32 random bytes) on first use. */
  async master(workspaceId: string): Promise<Buffer> {
    const stored = await this.storage.get(this.name(workspaceId));
    if (stored && /^[0-9a-f]{64}$/.test(stored)) return Buffer.from(stored, 'hex');
    const fresh = randomBytes(MASTER_SECRET_BYTES);
    await this.storage.store(this.name(workspaceId), fresh.toString('hex'));
    return fresh;
  }

  /** Writes (or rewrites) an agent's key file, mode 0600, and returns its path. */
  async agentKeyFile(workspaceId: string, agentId: string): Promise<string> {
    const parsed = (await loadProtocol()).AgentId.safeParse(agentId);
    if (!parsed.success) throw new Error(`agent id "${agentId}": ${parsed.error.issues[0]?.message}`);
    const key = deriveAgentKey(await this.master(workspaceId), agentId);
    const dir = path.join(this.keysDir, workspaceId.slice(0, 12));
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const file = path.join(dir, `${agentId}.key`);
    // Written to a private temp file and renamed, so the key is never readable by others, even briefly.
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, `${key.toString('hex')}\n`, { mode: 0o600 });
    fs.chmodSync(tmp, 0o600);
    fs.renameSync(tmp, file);
    return file;
  }
}
