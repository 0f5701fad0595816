import { isLoopbackRegistry, registryBaseUrl } from '../../payload/locator/registry/registry-base-url';

describe('registryBaseUrl', () => {
  it('uses http for loopback registries with any port', () => {
    expect(registryBaseUrl('localhost:5000')).toBe('http://localhost:5000');
    expect(registryBaseUrl('localhost')).toBe('http://localhost');
    expect(registryBaseUrl('127.0.0.1:5000')).toBe('http://127.0.0.1:5000');
    expect(registryBaseUrl('127.10.20.30:80')).toBe('http://127.10.20.30:80');
    expect(registryBaseUrl('[::1]:5000')).toBe('http://[::1]:5000');
    expect(registryBaseUrl('[::ffff:7f00:1]:5000')).toBe('http://[::ffff:7f00:1]:5000');
  });

  it('uses https for everything else, and the API host for Docker Hub', () => {
    expect(registryBaseUrl('docker.io')).toBe('https://registry-1.docker.io');
    expect(registryBaseUrl('ghcr.io')).toBe('https://ghcr.io');
    expect(registryBaseUrl('10.0.0.5:5000')).toBe('https://10.0.0.5:5000');
    expect(registryBaseUrl('localhost.example.com')).toBe('https://localhost.example.com');
    expect(registryBaseUrl('127.0.0.1.nip.io:5000')).toBe('https://127.0.0.1.nip.io:5000');
    expect(registryBaseUrl('[::2]:5000')).toBe('https://[::2]:5000');
    expect(isLoopbackRegistry('128.0.0.1')).toBe(false);
  });
});
