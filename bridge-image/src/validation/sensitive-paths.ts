/**
 * Paths that need care whatever the policy says: secrets (keys, tokens, .env files),
 * the files that keep the Lighthouse hook in place, raw disks, system directories, and
 * device files that are harmless to write (`/dev/null`).
 */
import path from 'node:path';
import { basename } from './command-model.js';
import { relativeInside } from './glob.js';

/** `.env.example` and friends are committed templates, not secrets. */
const TEMPLATE_SUFFIX = /(?:^|\.)(?:example|sample|template|tmpl|tpl|dist|defaults?|schema)$/;
const KEY_EXT = /\.(?:pem|key|p12|pfx|jks|keystore|ppk|p8)$/i;
const SSH_KEY = /^id_(?:rsa|dsa|ecdsa|ed25519)(?:_sk)?$/;
const CREDENTIAL_FILES = new Set([
  '.npmrc',
  '.pypirc',
  '.netrc',
  '_netrc',
  '.git-credentials',
  '.htpasswd',
  '.pgpass',
  '.my.cnf',
  '.vault-token',
  '.dockercfg',
  '.envrc',
  'credentials.json',
  '.credentials.json',
]);
const SECRET_DIRS = new Set(['.ssh', '.aws', '.gnupg']);

/** What kind of secret a path is, or null. The path is absolute; globs in it are literal. */
export function secretKind(abs: string): string | null {
  const base = basename(abs);
  const parent = basename(path.posix.dirname(abs));
  if (base === '.env' || base.endsWith('.env')) return 'an environment file';
  if (base.startsWith('.env.') && !TEMPLATE_SUFFIX.test(base.slice(5))) return 'an environment file';
  if (SSH_KEY.test(base) || (parent === '.ssh' && base.startsWith('id_') && !base.endsWith('.pub'))) {
    return 'an SSH private key';
  }
  if (/^ssh_host_.*_key$/.test(base)) return 'an SSH host key';
  if (KEY_EXT.test(base)) return 'a private key or certificate file';
  if (CREDENTIAL_FILES.has(base)) return 'a credentials file';
  if (parent === '.aws' && (base === 'credentials' || base === 'config')) return 'AWS credentials';
  if (parent === '.docker' && base === 'config.json') return 'Docker registry credentials';
  if (parent === '.kube' && base === 'config') return 'Kubernetes credentials';
  if (parent === 'gh' && base === 'hosts.yml') return 'GitHub CLI credentials';
  if (abs === '/etc/shadow' || abs === '/etc/gshadow' || abs === '/etc/master.passwd')
    return 'system password hashes';
  if (SECRET_DIRS.has(base)) return `the ${base} directory`;
  if (abs.split('/').includes('.gnupg')) return 'a GnuPG key file';
  return null;
}

/** A glob aimed at secrets (`**\/.env*`, `*.pem`): try what its wildcards could stand for. */
export function secretGlobKind(absPattern: string): string | null {
  if (!/[*?[{]/.test(absPattern)) return secretKind(absPattern);
  for (const fill of ['', 'x', '.x', '.local']) {
    const sample = absPattern
      .replace(/\{([^,}]*)[^}]*\}/g, '$1')
      .replace(/\[[^\]]*\]/g, 'x')
      .replace(/\*\*\/?/g, '')
      .replace(/\*/g, fill)
      .replace(/\?/g, 'x');
    const kind = secretKind(sample);
    if (kind) return kind;
  }
  return null;
}

/** Files through which the hook can be switched off, and the policy that rules it. */
export function hookControlKind(abs: string, workspace: string, home: string): string | null {
  for (const root of [workspace, home]) {
    const rel = relativeInside(root, abs);
    if (rel === null) continue;
    if (rel === '.claude') return 'the Claude Code settings directory';
    if (rel === '.claude/settings.json' || rel === '.claude/settings.local.json') {
      return 'Claude Code settings (where the Lighthouse hook is configured)';
    }
    if (root === workspace && (rel === '.lighthouse' || rel.startsWith('.lighthouse/'))) {
      return 'the Lighthouse policy directory';
    }
  }
  if (/\/managed-settings\.json$/.test(abs) && /claude/i.test(abs)) return 'Claude Code managed settings';
  return null;
}

/** Writes that go nowhere or to the terminal. */
export function isHarmlessDevice(abs: string): boolean {
  return (
    abs === '/dev/null' ||
    abs === '/dev/zero' ||
    abs === '/dev/stdout' ||
    abs === '/dev/stderr' ||
    abs === '/dev/stdin' ||
    abs === '/dev/tty' ||
    abs.startsWith('/dev/fd/') ||
    abs.startsWith('/dev/pts/') ||
    /^\/proc\/self\/fd\//.test(abs)
  );
}

const BLOCK_DEVICE =
  /^\/dev\/(?:sd[a-z]|hd[a-z]|vd[a-z]|xvd[a-z]|nvme\d|mmcblk\d|r?disk\d|md\d|dm-\d|mapper\/|loop\d)/;

export const isBlockDevice = (abs: string): boolean => BLOCK_DEVICE.test(abs);

export const SYSTEM_DIRS = new Set([
  '/bin',
  '/boot',
  '/dev',
  '/etc',
  '/home',
  '/lib',
  '/lib32',
  '/lib64',
  '/opt',
  '/proc',
  '/root',
  '/sbin',
  '/srv',
  '/sys',
  '/usr',
  '/var',
  '/Applications',
  '/Library',
  '/System',
  '/Users',
  '/private',
  '/Volumes',
  '/usr/bin',
  '/usr/lib',
  '/usr/local',
  '/var/lib',
]);
