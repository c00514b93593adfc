import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import tls from 'node:tls';

/**
 * The CA certificates this machine trusts beyond Node's own (a TLS-intercepting proxy's), as PEM,
 * for npm inside the image build: from $NODE_EXTRA_CA_CERTS, $SSL_CERT_FILE or Debian's bundle.
 * Certificates Node already knows are left out: a whole system bundle would not fit in the
 * build's environment. Empty when there are none.
 */
export function extraCaCerts(env: NodeJS.ProcessEnv = process.env): string {
  const file = [env.NODE_EXTRA_CA_CERTS, env.SSL_CERT_FILE, '/etc/ssl/certs/ca-certificates.crt'].find(
    (f) => f && fs.existsSync(f),
  );
  if (!file) return '';
  const known = new Set(tls.rootCertificates.map((c) => c.replace(/\s/g, '')));
  const pems = fs
    .readFileSync(file, 'utf8')
    .match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g);
  const extra = (pems ?? []).filter((p) => {
    if (known.has(p.replace(/\s/g, ''))) return false;
    try {
      return new X509Certificate(p).ca;
    } catch {
      return false;
    }
  });
  return extra.length ? extra.join('\n') + '\n' : '';
}
