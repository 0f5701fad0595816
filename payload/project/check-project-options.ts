/**
 * What the run options of a project file may do without your say-so (pure, given a way to
 * resolve links). A cloned repository is not trusted: its pyproject.toml is written by
 * whoever wrote the repository, and `run-docker .` must not hand them the host. Options
 * that widen what the container may do are refused unless this host allowed this table
 * (allowed-projects.ts); docs/project-file.md lists them and says why each one widens.
 *
 * The options arrive as the grammar normalises them (parse-invocation.ts): every docker
 * option by its long name, a value-taking one followed by its value, a boolean as `--x` or
 * `--x=VALUE`; so `--net=host`, `--net host` and `--network host` all read `--network host`
 * here, and `-v`, `--volume=` and `--volume` all read `--volume`.
 */
import { BlockList, isIP } from 'node:net';
import { isAbsolute, join, resolve, sep } from 'node:path';
import { DOCKER_RUN_OPTIONS } from '../run/docker-run-options';
import type { HostDirSetting, RunOptions } from '../run/invocation';
import { quoteCsvField } from '../run/render-docker-run-args';

export interface Widening {
  /** The option as the grammar normalised it, with its value: `--network host`. */
  option: string;
  /** What it gives the container, for the message: "the host's network". */
  why: string;
}

/** run-docker's own options from the file that reach outside the container. */
export interface FileOwnOptions {
  root: boolean;
  /** `--hostdatadir` and friends with their folders, already anchored (anchorFilePath). */
  hostDirs: { option: string; path: string }[];
}

export interface CheckContext {
  /** The project's folder, every link resolved. */
  projectDir: string;
  /** `~/work`, every link resolved: the data, log and source folders live there. */
  workDir: string;
  /** The path with every link resolved (for a path that does not exist, its deepest existing folder's). */
  realPath: (path: string) => string;
}

/** Options that widen, whatever their value. */
const ALWAYS: Partial<Record<string, string>> = {
  '--cap-add': "Linux capabilities beyond docker's default set",
  '--device': "the host's devices",
  '--device-cgroup-rule': "access to the host's devices",
  '--gpus': "the host's GPUs",
  '--security-opt': 'a confinement of its choosing (seccomp, AppArmor, SELinux labels)',
  '--group-add': 'extra groups, which open files in the mapped folders',
  '--volumes-from': "another container's volumes",
  '--volume-driver': 'a volume plugin, which may mount anything',
  '--cgroup-parent': 'a cgroup of its choosing on the host',
  '--cidfile': 'a file written on the host, where the file says',
};

/** Namespaces docker can share with the host (`host`) or with another container (`container:NAME`). */
const NAMESPACES: Partial<Record<string, string>> = {
  '--network': 'network',
  '--pid': 'processes',
  '--ipc': 'shared memory',
  '--uts': 'host name',
  '--userns': 'user namespace (root in the container is root on the host)',
  '--cgroupns': 'cgroups',
};

const BOOLEANS: Partial<Record<string, string>> = {
  '--privileged': 'every device and capability of the host',
  '--use-api-socket': "the Docker engine's API socket, which is root on the host",
  '--publish-all': 'ports on every network interface of the host',
};

/** 127.0.0.0/8 and ::1; made on first use, not on every call's start. */
let loopback: BlockList | undefined;
function isLoopback(ip: string, family: 'ipv4' | 'ipv6'): boolean {
  if (!loopback) {
    loopback = new BlockList();
    loopback.addSubnet('127.0.0.0', 8, 'ipv4');
    loopback.addAddress('::1', 'ipv6');
  }
  return loopback.check(ip, family);
}

/** Every widening option in the file's options, in their order. */
export function findWideningOptions(
  own: FileOwnOptions,
  dockerArgs: readonly string[],
  context: CheckContext,
): Widening[] {
  const found: Widening[] = [];
  if (own.root) found.push({ option: '--root', why: 'root in the container' });
  for (const { option, path } of own.hostDirs) {
    const why = checkHostPath(path, context, 'mount');
    if (why) found.push({ option: `${option} ${path}`, why });
  }
  forEachOption(dockerArgs, (name, value) => {
    const option = value === undefined ? name : `${name} ${value}`;
    const why = findWhy(name, value, context);
    if (why) found.push({ option, why });
  });
  return found;
}

function findWhy(name: string, value: string | undefined, context: CheckContext): string | undefined {
  const always = ALWAYS[name];
  if (always !== undefined) return always;
  const namespace = NAMESPACES[name];
  if (namespace !== undefined && value !== undefined) return checkNamespace(name, value, namespace);
  const flag = BOOLEANS[name.replace(/=.*/s, '')];
  if (flag !== undefined) return isTrue(name) ? flag : undefined;
  switch (name) {
    case '--publish':
      return value === undefined || isLoopbackPublish(value)
        ? undefined
        : 'a port on every network interface of the host';
    case '--volume':
      return value === undefined ? undefined : checkVolume(value, context);
    case '--mount':
      return value === undefined ? undefined : checkMount(value, context);
    case '--env-file':
    case '--label-file':
      return value === undefined ? undefined : checkHostPath(value, context, 'file');
    default:
      return undefined;
  }
}

/** Calls `visit` for each option of normalised docker args: `--long value` or `--flag[=value]`. */
export function forEachOption(args: readonly string[], visit: (name: string, value: string | undefined) => void): void {
  for (let i = 0; i < args.length; i++) {
    const name = args[i]!;
    // The grammar writes a boolean with its value attached; every other option takes the next element.
    const next = args[i + 1];
    if (name.includes('=') || isBooleanOption(name) || next === undefined) {
      visit(name, undefined);
    } else {
      visit(name, next);
      i++;
    }
  }
}

/** docker run's boolean options (docker-run-options.ts): they never take the next element. Made on first use. */
let booleanNames: ReadonlySet<string> | undefined;
function isBooleanOption(name: string): boolean {
  booleanNames ??= new Set(
    DOCKER_RUN_OPTIONS.filter((option) => !option.takesValue).map((option) => `--${option.long}`),
  );
  return booleanNames.has(name);
}

/** `--flag` or `--flag=VALUE` with a true value (strconv.ParseBool, as pflag reads it). */
function isTrue(arg: string): boolean {
  const equals = arg.indexOf('=');
  if (equals < 0) return true;
  return ['1', 't', 'T', 'TRUE', 'true', 'True'].includes(arg.slice(equals + 1));
}

/**
 * `host` or `container:NAME`; for --network also its advanced form, `name=host,alias=…`
 * (docker/cli opts/network.go), whose `name` field is the network.
 */
function checkNamespace(name: string, value: string, what: string): string | undefined {
  let mode = value;
  if (name === '--network' && value.includes('=')) {
    mode =
      parseCsv(value)
        .find((field) => /^name=/i.test(field))
        ?.slice('name='.length) ?? '';
  }
  if (mode === 'host') return `the host's ${what}`;
  if (mode.startsWith('container:')) return `another container's ${what}`;
  return undefined;
}

/** `[IP:][HOST_PORT:]CONTAINER_PORT[/PROTO]`: only an IP in 127.0.0.0/8 or ::1 keeps the port off the network. */
function isLoopbackPublish(value: string): boolean {
  let ip: string | undefined;
  if (value.startsWith('[')) {
    ip = value.slice(1, value.indexOf(']'));
  } else {
    const parts = value.split(':');
    if (parts.length === 3) ip = parts[0];
  }
  if (ip === undefined || ip === '') return false;
  const family = isIP(ip);
  return family !== 0 && isLoopback(ip, family === 4 ? 'ipv4' : 'ipv6');
}

/** `SRC:DST[:MODE]`: a source that starts with `/`, `.` or `~` is a host path (a bind mount); else a named volume. */
function checkVolume(value: string, context: CheckContext): string | undefined {
  const colon = value.indexOf(':');
  if (colon < 0) return undefined; // an anonymous volume
  const source = value.slice(0, colon);
  return isHostPath(source) ? checkHostPath(source, context, 'mount') : undefined;
}

/** `type=bind,source=…`: the source is checked; a volume with driver options may mount anything. */
function checkMount(value: string, context: CheckContext): string | undefined {
  const fields = parseCsv(value).map((field) => {
    const equals = field.indexOf('=');
    return equals < 0 ? [field.toLowerCase(), ''] : [field.slice(0, equals).toLowerCase(), field.slice(equals + 1)];
  });
  const get = (...keys: string[]) => fields.find(([key]) => keys.includes(key!))?.[1];
  const type = get('type') ?? 'volume';
  if (type === 'bind') {
    const source = get('source', 'src');
    return source === undefined ? undefined : checkHostPath(source, context, 'mount');
  }
  if (type === 'volume' && (get('volume-driver') !== undefined || get('volume-opt') !== undefined))
    return 'a volume with driver options, which may mount any host folder';
  return undefined;
}

function isHostPath(source: string): boolean {
  return source.startsWith('/') || source.startsWith('.') || source.startsWith('~');
}

/**
 * A host path from the file: a mount source must stay in the project folder or ~/work, an
 * env or label file in the project folder. Links are resolved (a link in the repository to
 * /etc is /etc); `..` is refused outright, since the kernel resolves it after links and a
 * path's text cannot say where it ends up.
 */
function checkHostPath(path: string, context: CheckContext, kind: 'mount' | 'file'): string | undefined {
  const what = kind === 'mount' ? 'a host folder' : 'a host file';
  if (path.split(/[\\/]/).includes('..')) return `${what} reached with ".."`;
  const real = context.realPath(path);
  const roots = kind === 'mount' ? [context.projectDir, context.workDir] : [context.projectDir];
  if (roots.some((root) => real === root || real.startsWith(root.endsWith(sep) ? root : root + sep))) return undefined;
  return kind === 'mount'
    ? `${what} outside the project and ~/work ("${real}")`
    : `${what} outside the project ("${real}")`;
}

/**
 * A path from the project file, made absolute: relative to the project's folder (not to
 * wherever the call was made), `~` and `~/…` in your home. Undefined for any other text (a
 * named volume).
 */
export function anchorFilePath(path: string, projectDir: string, homeDir: string): string {
  // `..` is kept as written, for findWideningOptions to refuse.
  if (path.split(/[\\/]/).includes('..')) return path;
  if (path === '~' || path.startsWith('~/')) return join(homeDir, path.slice(1));
  return isAbsolute(path) ? path : resolve(projectDir, path);
}

/**
 * A project file's options with every host path made absolute (anchorFilePath,
 * anchorFileArgs), and the run-docker options among them that findWideningOptions checks.
 */
export function anchorFileOptions(
  options: RunOptions,
  root: boolean,
  projectDir: string,
  homeDir: string,
): { options: RunOptions; own: FileOwnOptions } {
  const anchorDir = (setting: HostDirSetting): HostDirSetting =>
    setting.kind === 'dir' ? { kind: 'dir', path: anchorFilePath(setting.path, projectDir, homeDir) } : setting;
  const anchored: RunOptions = {
    ...options,
    hostDataDir: anchorDir(options.hostDataDir),
    hostLogDir: anchorDir(options.hostLogDir),
    hostSrcDir: options.hostSrcDir === undefined ? undefined : anchorFilePath(options.hostSrcDir, projectDir, homeDir),
    dockerArgs: anchorFileArgs(options.dockerArgs, projectDir, homeDir),
  };
  const hostDirs: FileOwnOptions['hostDirs'] = [];
  for (const [option, setting] of [
    ['--hostdatadir', anchored.hostDataDir],
    ['--hostlogdir', anchored.hostLogDir],
  ] as const) {
    if (setting.kind === 'dir') hostDirs.push({ option, path: setting.path });
  }
  if (anchored.hostSrcDir !== undefined) hostDirs.push({ option: '--hostsrcdir', path: anchored.hostSrcDir });
  return { options: anchored, own: { root, hostDirs } };
}

/**
 * The file's docker args with relative host paths made absolute (anchorFilePath): the
 * docker CLI would read them against the folder the call was made in, which may be any
 * folder of the project. `..` is kept as written, for the check above to refuse.
 */
export function anchorFileArgs(args: readonly string[], projectDir: string, homeDir: string): string[] {
  const anchored: string[] = [];
  const anchor = (path: string) =>
    path.split(/[\\/]/).includes('..') ? path : anchorFilePath(path, projectDir, homeDir);
  forEachOption(args, (name, value) => {
    if (value === undefined) {
      anchored.push(name);
      return;
    }
    let text = value;
    if (name === '--volume') {
      const colon = value.indexOf(':');
      const source = colon < 0 ? '' : value.slice(0, colon);
      if (isHostPath(source)) text = anchor(source) + value.slice(colon);
    } else if (name === '--mount') {
      text = parseCsv(value)
        .map((field) => {
          const match = /^(source|src)=(.*)$/is.exec(field);
          return match && isHostPath(match[2]!) ? `${match[1]}=${anchor(match[2]!)}` : field;
        })
        .map(quoteCsvField)
        .join(',');
    } else if (name === '--env-file' || name === '--label-file' || name === '--cidfile') {
      text = anchor(value);
    }
    anchored.push(name, text);
  });
  return anchored;
}

/** One CSV record, as Go's encoding/csv reads it (docker/cli opts/mount.go): commas, and fields in double quotes. */
export function parseCsv(text: string): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (char === '"') {
        quoted = false;
      } else {
        field += char;
      }
    } else if (char === '"' && field === '') {
      quoted = true;
    } else if (char === ',') {
      fields.push(field);
      field = '';
    } else {
      field += char;
    }
  }
  fields.push(field);
  return fields;
}
