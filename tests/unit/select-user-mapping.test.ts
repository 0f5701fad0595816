import { checkUserMapping, selectUserMapping, type MappingCheck } from '../../payload/run/select-user-mapping';

const podman = { kind: 'podman' as const, version: '4.3.1' };
const docker = { kind: 'docker' as const, version: '20.10.24' };

describe('selectUserMapping', () => {
  it('shares ids on a rootful engine, keeps the id on rootless Podman through its CLI, and makes uid 0 the user otherwise', () => {
    expect(selectUserMapping({ rootless: false, identity: podman }, 'podman')).toBe('shared');
    expect(selectUserMapping({ rootless: false, identity: docker }, 'docker')).toBe('shared');
    expect(selectUserMapping({ rootless: true, identity: podman }, 'podman')).toBe('keep-id');
    // The docker CLI refuses --userns=keep-id.
    expect(selectUserMapping({ rootless: true, identity: podman }, 'docker')).toBe('root-is-user');
    expect(selectUserMapping({ rootless: true, identity: docker }, 'docker')).toBe('root-is-user');
  });
});

describe('checkUserMapping', () => {
  const base: MappingCheck = {
    mapping: 'keep-id',
    mode: {
      rootless: true,
      rootUid: 1501,
      socketOwner: 1501,
      remapsIds: false,
      local: true,
      host: 'unix:///run/user/1501/podman/podman.sock',
    },
    hostUid: 1501,
    platform: 'linux',
    root: false,
  };

  it("says nothing when the engine's uid 0 is the host user, or ids are shared", () => {
    expect(checkUserMapping(base)).toBeUndefined();
    expect(
      checkUserMapping({ ...base, mapping: 'root-is-user', mode: { ...base.mode, rootUid: undefined } }),
    ).toBeUndefined();
    expect(checkUserMapping({ ...base, mapping: 'shared', mode: { ...base.mode, rootless: false } })).toBeUndefined();
  });

  it("names the uid whose files they would be when a rootless engine is another user's", () => {
    expect(checkUserMapping({ ...base, hostUid: 0 })).toBe(
      'the rootless engine at "unix:///run/user/1501/podman/podman.sock" runs as uid 1501, not as this user (uid 0): files the container writes in mapped folders will belong to uid 1501',
    );
  });

  it('says so when it cannot tell, and when userns-remap shifts every id', () => {
    expect(checkUserMapping({ ...base, mode: { ...base.mode, rootUid: undefined, socketOwner: undefined } })).toMatch(
      /^cannot tell which user the rootless engine at .* runs as/,
    );
    expect(
      checkUserMapping({ ...base, mapping: 'shared', mode: { ...base.mode, rootless: false, remapsIds: true } }),
    ).toMatch(
      /remaps user ids \(userns-remap\): files the container writes in mapped folders belong to a uid of its subordinate range, not to uid 1501$/,
    );
  });

  it('leaves engines on other hosts, Docker Desktop, and --root alone', () => {
    expect(checkUserMapping({ ...base, hostUid: 0, mode: { ...base.mode, local: false } })).toBeUndefined();
    expect(checkUserMapping({ ...base, hostUid: 0, platform: 'darwin' })).toBeUndefined();
    expect(checkUserMapping({ ...base, hostUid: 0, root: true })).toBeUndefined();
  });
});
