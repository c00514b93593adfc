import { describe, expect, it } from 'vitest';
import {
  hookControlKind,
  isBlockDevice,
  isHarmlessDevice,
  secretGlobKind,
  secretKind,
} from '../../../bridge-image/src/validation/sensitive-paths.js';

describe('sensitive paths', () => {
  it('recognises secrets', () => {
    for (const p of [
      '/ws/.env',
      '/ws/.env.local',
      '/ws/.env.production',
      '/ws/deploy/prod.env',
      '/home/u/.ssh/id_rsa',
      '/home/u/.ssh/id_custom',
      '/ws/id_ed25519',
      '/ws/tls.pem',
      '/ws/server.key',
      '/ws/store.p12',
      '/home/u/.aws/credentials',
      '/home/u/.npmrc',
      '/home/u/.netrc',
      '/home/u/.git-credentials',
      '/home/u/.docker/config.json',
      '/home/u/.kube/config',
      '/home/u/.config/gh/hosts.yml',
      '/etc/shadow',
      '/home/u/.ssh',
      '/home/u/.gnupg/private-keys-v1.d/x.key',
    ]) {
      expect(secretKind(p), p).not.toBeNull();
    }
  });

  it('leaves templates, public keys and look-alikes alone', () => {
    for (const p of [
      '/ws/.env.example',
      '/ws/.env.sample',
      '/ws/.env.local.example',
      '/ws/.env.template',
      '/home/u/.ssh/id_rsa.pub',
      '/home/u/.ssh/known_hosts',
      '/home/u/.ssh/config',
      '/ws/src/env.ts',
      '/ws/.venv/bin/python',
      '/ws/environment.ts',
      '/ws/keys.ts',
    ]) {
      expect(secretKind(p), p).toBeNull();
    }
  });

  it('recognises globs aimed at secrets', () => {
    expect(secretGlobKind('/ws/**/.env*')).not.toBeNull();
    expect(secretGlobKind('/ws/**/*.pem')).not.toBeNull();
    expect(secretGlobKind('/home/u/.ssh/id_*')).not.toBeNull();
    expect(secretGlobKind('/ws/**/*')).toBeNull();
    expect(secretGlobKind('/ws/src/**/*.ts')).toBeNull();
  });

  it('knows the files that keep the hook in place', () => {
    expect(hookControlKind('/ws/.claude/settings.json', '/ws', '/home/u')).toMatch(/Claude Code settings/);
    expect(hookControlKind('/home/u/.claude/settings.local.json', '/ws', '/home/u')).toMatch(
      /Claude Code settings/,
    );
    expect(hookControlKind('/ws/.lighthouse/policy.json', '/ws', '/home/u')).toMatch(/policy/);
    expect(hookControlKind('/ws/.claude', '/ws', '/home/u')).not.toBeNull();
    expect(hookControlKind('/ws/.claude/commands/x.md', '/ws', '/home/u')).toBeNull();
    expect(hookControlKind('/etc/claude-code/managed-settings.json', '/ws', '/home/u')).not.toBeNull();
  });

  it('tells raw disks from harmless devices', () => {
    expect(['/dev/sda', '/dev/sdb1', '/dev/nvme0n1', '/dev/disk2', '/dev/mmcblk0'].every(isBlockDevice)).toBe(
      true,
    );
    expect(isBlockDevice('/dev/null')).toBe(false);
    expect(['/dev/null', '/dev/stderr', '/dev/fd/3', '/dev/tty'].every(isHarmlessDevice)).toBe(true);
    expect(isHarmlessDevice('/dev/sda')).toBe(false);
  });
});
