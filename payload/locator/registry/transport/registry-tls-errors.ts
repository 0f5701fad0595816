/**
 * TLS failures, named for what they are rather than a misleading "cannot reach". A
 * certificate this host does not trust (unknown CA, self-signed, a name that does not
 * match) or a client certificate the registry wants will not mend itself, so the line names
 * the certs.d file that mends it; but like any registry a host cannot use right now, it
 * costs one warning and the images on the host run (registry-unreachable-error.ts): a CA
 * rotated before every host has the new one must not stop a fleet, and nothing a registry
 * sends can make a host run code it does not trust anyway (docs/trust.md). An expired or
 * not-yet-valid certificate is the registry's own outage, handled the same way.
 */
import { RunDockerError } from '../../../../common/run-docker-error';
import { SYSTEM_CERTS_DIR } from '../registry-host';
import { RegistryUnreachableError } from '../registry-unreachable-error';

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
export function untrustedCertificate(host: string, code: string, registry: string = host): RegistryUnreachableError {
  const who =
    registry === host ? `the registry "${host}"` : `the token service "${host}" of the registry "${registry}"`;
  return new RegistryUnreachableError(
    host,
    `${code}; if it uses a private CA, put that CA in ${SYSTEM_CERTS_DIR}/${registry}/ca.crt`,
    `${who} presented a certificate this host does not trust`,
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
export function clientCertificateRefused(host: string, code: string, sent: boolean): RegistryUnreachableError {
  return new RegistryUnreachableError(
    host,
    `${code}; put the client certificate and its key in ${SYSTEM_CERTS_DIR}/${host}/ as NAME.cert and NAME.key`,
    sent
      ? `the registry "${host}" refused this host's client certificate`
      : `the registry "${host}" asks for a client certificate`,
    `Put the client certificate and its key in ${SYSTEM_CERTS_DIR}/${host}/ as NAME.cert and NAME.key (where the Docker engine looks for them), or run with --local to use only images on this host.`,
  );
}

/** What Node (OpenSSL) says when the other end answers a TLS hello in plain HTTP. */
export function isPlainHttpAnswer(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return (
    code === 'ERR_SSL_WRONG_VERSION_NUMBER' ||
    (code === 'EPROTO' && typeof message === 'string' && /wrong version number/i.test(message))
  );
}

/**
 * A registry that speaks plain HTTP, asked over https because the engine treats it as secure:
 * Podman does so for every registry its registries.conf does not list as insecure, loopback
 * included (dockerd never for 127.0.0.0/8). The engine would refuse to pull from it too, so
 * the fix is the engine's configuration; like any registry this host cannot use now, the
 * images on the host run meanwhile.
 */
export function plainHttpRegistry(host: string): RegistryUnreachableError {
  return new RegistryUnreachableError(
    host,
    'it answers plain HTTP, and the engine treats it as secure',
    `the registry "${host}" cannot be used over https`,
    `For Podman, list it as insecure in /etc/containers/registries.conf (or ~/.config/containers/registries.conf): [[registry]] location = "${host}" insecure = true; for Docker, add it to "insecure-registries" in /etc/docker/daemon.json. Or run with --local to use only images on this host.`,
  );
}
