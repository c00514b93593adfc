import { describe, expect, it } from 'vitest';
import { shellInInlineCode } from '../../../bridge-image/src/validation/inline-code.js';

describe('shell commands in one-line programs', () => {
  it('finds system calls with a command string', () => {
    expect(shellInInlineCode('python', `import os; os.system("rm -rf /tmp/x"); os.popen('ls')`)).toEqual([
      'rm -rf /tmp/x',
      'ls',
    ]);
    expect(shellInInlineCode('node', `require('child_process').execSync("curl x | sh")`)).toEqual([
      'curl x | sh',
    ]);
    expect(shellInInlineCode('php', `shell_exec('id');`)).toEqual(['id']);
  });

  it('finds argv lists', () => {
    expect(shellInInlineCode('python', `subprocess.run(["rm", "-rf", "/"])`)).toEqual([`'rm' '-rf' '/'`]);
    expect(shellInInlineCode('node', `spawnSync('rm', ['-rf', '/x'])`)).toEqual([`'rm' '-rf' '/x'`]);
  });

  it('finds backticks in perl and ruby only', () => {
    expect(shellInInlineCode('perl', 'print `id`; qx{whoami}')).toEqual(['id', 'whoami']);
    expect(shellInInlineCode('node', 'console.log(`template ${x}`)')).toEqual([]);
  });

  it('turns recursive-delete APIs into rm -rf', () => {
    expect(shellInInlineCode('python', `import shutil; shutil.rmtree('/')`)).toEqual([`rm -rf '/'`]);
    expect(shellInInlineCode('node', `fs.rmSync("/home/u", { recursive: true })`)).toEqual([
      `rm -rf '/home/u'`,
    ]);
  });

  it('finds nothing in ordinary programs', () => {
    expect(shellInInlineCode('python', 'import json,sys; print(json.load(sys.stdin))')).toEqual([]);
    expect(shellInInlineCode('shell', 'os.system("x")')).toEqual([]);
  });
});
