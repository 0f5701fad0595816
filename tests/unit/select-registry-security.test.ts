import {
  isInsecureRegistry,
  parseEngineRegistryConfig,
} from '../../payload/locator/registry/host/select-registry-security';

/** As a default engine answers GET /info (Docker 20.10–27). */
const DEFAULT_INFO = {
  ID: 'N4OF:7YN7:S3MN',
  RegistryConfig: {
    InsecureRegistryCIDRs: ['127.0.0.0/8'],
    IndexConfigs: { 'docker.io': { Name: 'docker.io', Mirrors: [], Secure: true, Official: true } },
    Mirrors: [],
  },
};

/** dockerd --insecure-registry registry.lan:5000 --insecure-registry 10.1.0.0/16 --insecure-registry fd00::/8 */
const CONFIGURED_INFO = {
  ID: 'ABCD',
  RegistryConfig: {
    InsecureRegistryCIDRs: ['10.1.0.0/16', 'fd00::/8', '127.0.0.0/8'],
    IndexConfigs: {
      'docker.io': { Name: 'docker.io', Secure: true, Official: true },
      'registry.lan:5000': { Name: 'registry.lan:5000', Secure: false, Official: false },
    },
  },
};

describe('parseEngineRegistryConfig', () => {
  it('keeps the engine ID, the insecure ranges and Secure per index name', () => {
    expect(parseEngineRegistryConfig(CONFIGURED_INFO)).toEqual({
      engineId: 'ABCD',
      insecureCidrs: ['10.1.0.0/16', 'fd00::/8', '127.0.0.0/8'],
      secureByIndex: { 'docker.io': true, 'registry.lan:5000': false },
    });
  });

  it('is undefined for an answer without RegistryConfig, and drops malformed members', () => {
    expect(parseEngineRegistryConfig({ ID: 'x' })).toBeUndefined();
    expect(parseEngineRegistryConfig(null)).toBeUndefined();
    expect(
      parseEngineRegistryConfig({
        RegistryConfig: { InsecureRegistryCIDRs: [1, '10.0.0.0/8'], IndexConfigs: { a: { Secure: 'no' } } },
      }),
    ).toEqual({
      engineId: '',
      insecureCidrs: ['10.0.0.0/8'],
      secureByIndex: {},
    });
  });
});

describe('isInsecureRegistry (dockerd isSecureIndex)', () => {
  const defaults = parseEngineRegistryConfig(DEFAULT_INFO)!;
  const configured = parseEngineRegistryConfig(CONFIGURED_INFO)!;

  it('a registry named with --insecure-registry is insecure whatever it resolves to', () => {
    expect(isInsecureRegistry('registry.lan:5000', ['192.168.1.20'], configured)).toBe(true);
    // The port is part of the name: the same host on another port is not listed.
    expect(isInsecureRegistry('registry.lan:5001', ['192.168.1.20'], configured)).toBe(false);
  });

  it('docker.io is secure: its index entry says so even if an address fell in a range', () => {
    expect(isInsecureRegistry('docker.io', ['127.0.0.1'], defaults)).toBe(false);
  });

  it('a name resolving into an insecure range is insecure (any of its addresses)', () => {
    expect(isInsecureRegistry('registry.test:5000', ['127.0.0.2'], defaults)).toBe(true);
    expect(isInsecureRegistry('git.corp:5050', ['192.0.2.1', '10.1.4.7'], configured)).toBe(true);
    expect(isInsecureRegistry('v6.corp', ['fd12::1'], configured)).toBe(true);
    // As dockerd's net.IPNet.Contains: an IPv4-mapped address is its IPv4 address.
    expect(isInsecureRegistry('[::ffff:7f00:1]:5000', ['::ffff:7f00:1'], defaults)).toBe(true);
  });

  it('public registries are secure on a default engine', () => {
    expect(isInsecureRegistry('ghcr.io', ['140.82.121.34'], defaults)).toBe(false);
    expect(isInsecureRegistry('ghcr.io', [], defaults)).toBe(false);
  });
});
