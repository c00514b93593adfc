import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { MASTER_SECRET_BYTES, parseKeyMaterial } from '../../protocol/index.js';

export class SecretError extends Error {
  override name = 'SecretError';
}

/** Reads the master secret; there is no default: without a file the bridge does not start. */
export function loadMasterSecret(file: string | undefined): { secret: Buffer; warnings: string[] } {
  if (!file) {
    throw new SecretError(
      'no master secret: set LIGHTHOUSE_AUTH_SECRET_FILE to a file holding 32 random bytes as 64 hex characters ' +
        '(the VS Code extension and `npm start` create one for you)',
    );
  }
  let raw: Buffer;
  try {
    raw = fs.readFileSync(file);
  } catch (e) {
    throw new SecretError(
      `cannot read the master secret file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
  let secret: Buffer;
  try {
    secret = parseKeyMaterial(raw, `the master secret file ${file}`);
  } catch (e) {
    throw new SecretError((e as Error).message);
  }
  const warnings: string[] = [];
  const mode = fs.statSync(file).mode & 0o777;
  if (mode & 0o077)
    warnings.push(
      `the master secret file ${file} is readable by others (mode ${mode.toString(8)}); chmod 600 it`,
    );
  return { secret, warnings };
}

/** Creates a secret file (mode 0600) if none exists; returns whether it made one. */
export function ensureSecretFile(file: string): boolean {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  try {
    const fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o600);
    fs.writeSync(fd, randomBytes(MASTER_SECRET_BYTES).toString('hex') + '\n');
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
}

/** Writes a key file (hex, mode 0600), replacing any earlier one atomically. */
export function writeKeyFile(file: string, key: Buffer): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, key.toString('hex') + '\n', { mode: 0o600 });
  fs.renameSync(tmp, file);
}
