/** A test CA and a server certificate it signs, made with openssl (P-256 keys: fast). */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCommand } from './fixtures';

/**
 * Writes ca.crt, ca.key, server.crt and server.key into `into`: the server certificate is for
 * the DNS name `name` and, when given, the IP address `ip` too.
 */
export async function makeCertificates(into: string, name: string, ip?: string): Promise<void> {
  const at = (file: string) => join(into, file);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const openssl = (args: string[]) => runCommand('openssl', args, { check: true });
  await openssl([
    'req',
    '-x509',
    ...ec,
    '-keyout',
    at('ca.key'),
    '-out',
    at('ca.crt'),
    '-days',
    '2',
    '-subj',
    '/CN=run-docker test CA',
  ]);
  await openssl(['req', ...ec, '-keyout', at('server.key'), '-out', at('server.csr'), '-subj', `/CN=${name}`]);
  await writeFile(at('san.ext'), `subjectAltName=DNS:${name}${ip ? `,IP:${ip}` : ''}\n`);
  await openssl([
    'x509',
    '-req',
    '-in',
    at('server.csr'),
    '-CA',
    at('ca.crt'),
    '-CAkey',
    at('ca.key'),
    '-CAcreateserial',
    '-out',
    at('server.crt'),
    '-days',
    '2',
    '-extfile',
    at('san.ext'),
  ]);
}
