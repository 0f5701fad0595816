/**
 * The TLS files the Docker engine uses for one registry, read as it reads them
 * (https://docs.docker.com/engine/security/certificates/, moby `registry.ReadCertsDirectory`):
 * in `<certs.d>/<host[:port]>/`, every `*.crt` is an extra CA root, and each `*.cert` is a
 * client certificate whose key is the `*.key` of the same name (one without the other is an
 * error, as for the engine). Folders: `/etc/docker/certs.d` (a rootful engine's), then
 * `$XDG_CONFIG_HOME/docker/certs.d` (`~/.config/docker/certs.d`: a rootless engine's), then
 * `~/.docker/certs.d` (Docker Desktop copies it into its VM for the engine; the CLI on the
 * host does not read it, but a Desktop user's CAs are there).
 */
import { readdir } from '../../../../common/fs-async';
import { join } from 'node:path';
import type { HostPlatform } from '../../../../common/host-platform';
import { currentUser, UnreadableFile } from '../../../../common/read-private-file';
import { readTrustedFile } from '../../../../common/read-trusted-file';
import { RunDockerError } from '../../../../common/run-docker-error';
import { SYSTEM_CERTS_DIR } from '../registry-host';

export interface RegistryTlsFiles {
  /** PEM CA certificates to trust besides Node's own roots. */
  ca: string[];
  /** A client certificate pair, when one is given. */
  cert?: string;
  key?: string;
  /** The folders that had files, for messages. */
  folders: string[];
}

/** A certificate or key is a few kB; a bundle of roots stays well below this. */
const MAX_PEM_BYTES = 1024 * 1024;

/**
 * The certs.d folders to look in, system first. Not /etc/docker/certs.d on Windows: there
 * it would be C:\etc\docker\certs.d, a folder any user may create at the drive's root,
 * and a CA planted in it would be trusted (Docker Desktop reads ~/.docker/certs.d).
 */
export function selectCertsDirs(
  env: Readonly<Record<string, string | undefined>>,
  homeDir: string,
  platform: HostPlatform = process.platform,
): string[] {
  const configHome = env.XDG_CONFIG_HOME || join(homeDir, '.config');
  const user = [join(configHome, 'docker', 'certs.d'), join(homeDir, '.docker', 'certs.d')];
  return platform === 'win32' ? user : [SYSTEM_CERTS_DIR, ...user];
}

/** `host` is `host[:port]` as the registry is addressed; undefined when no folder has files for it. */
export async function readRegistryCerts(
  host: string,
  certsDirs: readonly string[],
): Promise<RegistryTlsFiles | undefined> {
  // A registry name never holds a path separator; refuse one rather than leave the folder.
  if (host.includes('/') || host.startsWith('.')) return undefined;
  const found: RegistryTlsFiles = { ca: [], folders: [] };
  for (const base of certsDirs) {
    const folder = join(base, host);
    let names: string[];
    try {
      names = (await readdir(folder)).sort();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ENOTDIR')
        continue;
      throw unreadable(folder, (error as Error).message);
    }
    const read = async (name: string) => {
      try {
        // Owned like docker's config (read-trusted-file.ts): a CA another user planted would be trusted for the registry.
        const bytes = await readTrustedFile(join(folder, name), { user: currentUser(), maxBytes: MAX_PEM_BYTES });
        return bytes?.toString('utf8');
      } catch (error) {
        if (error instanceof UnreadableFile && error.reason === 'writable-by-others')
          throw new RunDockerError(
            `the registry certificate "${join(folder, name)}" is not used: it would be trusted for "${host}", and it ${error.message}`,
            "Make it and its folders yours (or root's) and writable by you alone, or remove it.",
          );
        throw unreadable(join(folder, name), (error as Error).message);
      }
    };
    let used = false;
    for (const name of names) {
      if (name.endsWith('.crt')) {
        const pem = await read(name);
        if (pem !== undefined) found.ca.push(pem);
        used = true;
      } else if (name.endsWith('.cert') || name.endsWith('.key')) {
        const stem = name.slice(0, name.lastIndexOf('.'));
        const pair = name.endsWith('.cert') ? `${stem}.key` : `${stem}.cert`;
        if (!names.includes(pair)) {
          throw new RunDockerError(
            `the client certificate "${join(folder, name)}" has no "${pair}" beside it`,
            'Put each client certificate NAME.cert next to its key NAME.key (as the Docker engine expects), or remove the lone file.',
          );
        }
        // The pair is read once, from its .cert.
        if (name.endsWith('.cert') && found.cert === undefined) {
          found.cert = await read(name);
          found.key = await read(pair);
        }
        used = true;
      }
    }
    if (used) found.folders.push(folder);
  }
  return found.folders.length > 0 ? found : undefined;
}

function unreadable(file: string, reason: string): RunDockerError {
  return new RunDockerError(
    `cannot read the registry certificates in "${file}": ${reason}`,
    'Make the folder and its .crt, .cert and .key files readable regular files, or remove them.',
  );
}
