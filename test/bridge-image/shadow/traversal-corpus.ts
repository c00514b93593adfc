/**
 * A dotdotpwn-style corpus: encodings of ".." × encodings of "/" × depths × targets, plus
 * absolute paths, NUL bytes, backslashes and look-alikes. Generated, so every run tries them all.
 */
const DOTS = [
  '..',
  '.%2e',
  '%2e.',
  '%2e%2e',
  '%2E%2E',
  '%252e%252e',
  '%c0%ae%c0%ae',
  '%e0%80%ae%e0%80%ae',
  '%uff0e%uff0e',
  '\uff0e\uff0e',
  '...',
  '....',
  '..%00',
  '..\u2024',
];
const SLASHES = [
  '/',
  '%2f',
  '%2F',
  '%252f',
  '\\',
  '%5c',
  '%c0%af',
  '%e0%80%af',
  '\uff0f',
  '%u2215',
  '//',
  '/./',
];
const TARGETS = ['outside/secret.txt', 'etc/passwd'];
const DEPTHS = [1, 2, 3, 4, 6, 8];

export function traversalCorpus(): string[] {
  const out = new Set<string>();
  for (const dots of DOTS) {
    for (const slash of SLASHES) {
      for (const depth of DEPTHS) {
        for (const target of TARGETS) {
          const climb = Array.from({ length: depth }, () => dots + slash).join('');
          out.add(climb + target.replace(/\//g, slash));
          out.add('src' + slash + climb + target);
        }
      }
    }
  }
  for (const abs of [
    '/etc/passwd',
    '//etc/passwd',
    '~/.ssh/id_rsa',
    'C:/windows',
    'C:\\windows',
    '/proc/self/environ',
  ]) {
    out.add(abs);
  }
  for (const odd of ['README.md\0.txt', 'src\0/../../etc/passwd', '\\etc\\passwd', 'src/\u2215..\u2215..'])
    out.add(odd);
  return [...out];
}
