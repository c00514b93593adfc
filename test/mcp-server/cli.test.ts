import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/bridge-process.js';
import { MCP_JS, writeAgentKey } from './mcp-process.js';

/** Runs the built server with stdin already at its end, so a server that starts also stops at once. */
const run = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [MCP_JS, ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    input: '',
    encoding: 'utf8',
    timeout: 20_000,
  });

describe('the lighthouse-mcp command line', () => {
  it('--help explains every option and exits 0', () => {
    const r = run(['--help']);
    expect(r.status).toBe(0);
    for (const opt of [
      '--bridge URL',
      '--agent ID',
      '--key-file PATH',
      '--role ROLE',
      '--timeout-ms N',
      '--http PORT',
    ]) {
      expect(r.stdout).toContain(opt);
    }
    for (const env of [
      'LIGHTHOUSE_BRIDGE_URL',
      'LIGHTHOUSE_AGENT_ID',
      'LIGHTHOUSE_KEY_FILE',
      'LIGHTHOUSE_ROLE',
      'LIGHTHOUSE_MCP_HTTP_PORT',
    ]) {
      expect(r.stdout).toContain(env);
    }
    expect(r.stdout).toContain('default http://127.0.0.1:8765');
    expect(r.stdout).toContain('http://127.0.0.1:PORT/mcp');
  });

  it.each([['--key'], ['--secret'], ['--agent-key'], ['--token']])(
    'refuses a key given as %s, says why, and never echoes it',
    (flag) => {
      const key = randomBytes(32).toString('hex');
      for (const args of [
        ['--agent', 'a', flag, key],
        ['--agent', 'a', `${flag}=${key}`],
      ]) {
        const r = run(args);
        expect(r.status).toBe(2);
        expect(r.stderr).toContain(`${flag} is refused`);
        expect(r.stderr).toContain('`ps`');
        expect(r.stderr).toContain('shell history');
        expect(r.stderr).toContain('--key-file');
        expect(r.stderr + r.stdout).not.toContain(key);
      }
    },
  );

  it('refuses a key pasted as a bare argument without echoing it', () => {
    const key = randomBytes(32).toString('hex');
    const r = run(['--agent', 'a', key]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('looks like a key');
    expect(r.stderr).not.toContain(key);
  });

  it('names a missing key file, and how to make one', () => {
    const missing = path.join(tempDir(), 'nope.key');
    const r = run(['--agent', 'claude', '--key-file', missing]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`--key-file ${missing}: no such file`);
    expect(r.stderr).toContain('npm run key -- claude');
  });

  it('names the environment variable when the bad key file came from there', () => {
    const dir = tempDir();
    const r = run([], { LIGHTHOUSE_AGENT_ID: 'claude', LIGHTHOUSE_KEY_FILE: dir });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`LIGHTHOUSE_KEY_FILE ${dir}: is a directory`);
  });

  it('refuses a key file that does not hold a key', () => {
    const file = path.join(tempDir(), 'bad.key');
    fs.writeFileSync(file, 'not a key\n', { mode: 0o600 });
    const r = run(['--agent', 'claude', '--key-file', file]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`--key-file ${file} must hold 64 hex characters`);
  });

  it('explains each other bad option', () => {
    const keyFile = writeAgentKey(randomBytes(32), 'claude');
    const cases: [string[], RegExp][] = [
      [['--key-file', keyFile], /--agent is required \(or set LIGHTHOUSE_AGENT_ID\)/],
      [['--agent', 'claude'], /--key-file is required \(or set LIGHTHOUSE_KEY_FILE\)/],
      [['--agent', 'no spaces', '--key-file', keyFile], /--agent "no spaces": agent id: 1-64 letters/],
      [['--agent', 'claude', '--key-file', keyFile, '--role', 'admin'], /admin is the VS Code extension/],
      [
        ['--agent', 'claude', '--key-file', keyFile, '--bridge', 'https://x'],
        /--bridge must be an http:\/\//,
      ],
      [
        ['--agent', 'claude', '--key-file', keyFile, '--bridge', 'nonsense'],
        /--bridge "nonsense" is not a URL/,
      ],
      [
        ['--agent', 'claude', '--key-file', keyFile, '--timeout-ms', '5'],
        /--timeout-ms must be a whole number/,
      ],
      [['--agent', 'claude', '--key-file', keyFile, '--http', '70000'], /--http must be a port number/],
      [['--agent', 'claude', '--key-file', keyFile, '--http', 'x'], /--http must be a port number/],
      [['--agent', 'claude', '--key-file', keyFile, '--bogus'], /unknown option --bogus/],
      [['--agent'], /--agent needs a value/],
    ];
    for (const [args, message] of cases) {
      const r = run(args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(message);
      expect(r.stdout, args.join(' ')).toBe('');
    }
  });

  it('starts from environment variables alone, warns about a key file others can read, and stops when stdin ends', () => {
    const keyFile = writeAgentKey(randomBytes(32), 'claude');
    fs.chmodSync(keyFile, 0o644);
    const r = run([], {
      LIGHTHOUSE_AGENT_ID: 'claude',
      LIGHTHOUSE_KEY_FILE: keyFile,
      LIGHTHOUSE_ROLE: 'expert',
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`${keyFile} is readable by other users (mode 644); run chmod 600`);
    expect(r.stderr).toContain('serving agent "claude" (expert) for the bridge at http://127.0.0.1:8765');
    expect(r.stderr).toContain('stopping (stdin closed)');
  });
});
