import { formatLoginCommand } from '../../common/format-login-command';

describe('formatLoginCommand', () => {
  it('names both CLIs with the registry, since a host may have only one of them', () => {
    expect(formatLoginCommand('127.0.0.1:5000')).toBe(
      '"docker login 127.0.0.1:5000" (with Podman: "podman login 127.0.0.1:5000")',
    );
  });

  it.each(['docker.io', 'index.docker.io', 'registry-1.docker.io', undefined])(
    'names no registry for Docker Hub, the CLIs’ default (%s)',
    (registry) => {
      expect(formatLoginCommand(registry)).toBe('"docker login" (with Podman: "podman login")');
    },
  );
});
