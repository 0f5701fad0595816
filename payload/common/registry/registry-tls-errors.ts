/**
 * TLS failures that are not "the registry is down". A certificate this host does not trust
 * (unknown CA, self-signed, a name that does not match) will not mend itself, and falling
 * back to local images would hide it behind a misleading "cannot reach": it is an error
 * (exit 125) that names the certs.d folder. An expired or not-yet-valid certificate is the
 * registry's own outage, the same for every host: like a 5xx, the fleet keeps running its
 * local images (registry-unreachable-error.ts).
 */
import { RunDockerError } from '../../../common/run-docker-error';
import { SYSTEM_CERTS_DIR } from './read-registry-certs';

/** Node's (OpenSSL's) verification codes that mean "not trusted", not "out of date". */
const UNTRUSTED_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'INVALID_CA',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

export function untrustedCertificateCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && UNTRUSTED_CODES.has(code) ? code : undefined;
}

/** `registry`: the registry whose token service `host` is, when it is one (certs.d is per registry). */
export function untrustedCertificate(host: string, code: string, registry: string = host): RunDockerError {
  const who = registry === host ? `the registry "${host}"` : `the token service "${host}" of the registry "${registry}"`;
  return new RunDockerError(
    `${who} presented a certificate this host does not trust (${code})`,
    `If it uses a private CA, put that CA in ${SYSTEM_CERTS_DIR}/${registry}/ca.crt (where the Docker engine looks for it); otherwise check the registry address, or run with --local to use only images on this host.`,
  );
}

/** What Go's TLS servers (the distribution registry among them) answer to plain HTTP. */
export function isHttpsOnlyAnswer(url: string, status: number, text: string): boolean {
  return url.startsWith('http:') && status === 400 && /HTTP request to an HTTPS server/i.test(text);
}

/** Only where run-docker went to http without the engine's say-so (a caller without a transport choice). */
export function httpsOnlyRegistry(host: string): RunDockerError {
  return new RunDockerError(
    `the registry "${host}" answers only https, but was asked over plain HTTP`,
    `Put its CA certificate in ${SYSTEM_CERTS_DIR}/${host}/ca.crt so run-docker uses https, or run with --local to use only images on this host.`,
  );
}

/** TLS alerts a registry sends when it wants a client certificate it did not get, or does not accept the one it got. */
const CLIENT_CERTIFICATE_ALERTS =
  /^ERR_SSL_(SSLV3|TLSV1|TLSV13)_ALERT_(BAD_CERTIFICATE|CERTIFICATE_REQUIRED|UNKNOWN_CA|CERTIFICATE_UNKNOWN|UNSUPPORTED_CERTIFICATE|CERTIFICATE_REVOKED|CERTIFICATE_EXPIRED)$/;

export function clientCertificateAlertCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && CLIENT_CERTIFICATE_ALERTS.test(code) ? code : undefined;
}

/** Like an untrusted certificate, something only this host's configuration can mend. */
export function clientCertificateRefused(host: string, code: string, sent: boolean): RunDockerError {
  return new RunDockerError(
    sent ? `the registry "${host}" refused this host's client certificate (${code})` : `the registry "${host}" asks for a client certificate (${code})`,
    `Put the client certificate and its key in ${SYSTEM_CERTS_DIR}/${host}/ as NAME.cert and NAME.key (where the Docker engine looks for them), or run with --local to use only images on this host.`,
  );
}
