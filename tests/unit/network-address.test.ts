import {
  createAddressSet,
  isCidr,
  isLoopbackHost,
  splitHostPort,
  unbracket,
} from '../../payload/locator/registry/network-address';

describe('isLoopbackHost', () => {
  it.each([
    'localhost',
    'LOCALHOST',
    '127.0.0.1',
    '127.255.0.9',
    '::1',
    '[::1]',
    '0:0:0:0:0:0:0:1',
    '::ffff:127.0.0.1',
    // What URL makes of [::ffff:127.0.0.1]:
    '[::ffff:7f00:1]',
    '0:0:0:0:0:ffff:7f00:1',
  ])('%s is loopback', (host) => {
    expect(isLoopbackHost(host)).toBe(true);
  });

  it.each(['128.0.0.1', '10.0.0.1', '::2', '::ffff:10.0.0.1', '::7f00:1', 'localhost.corp', 'registry', ''])(
    '%s is not',
    (host) => {
      expect(isLoopbackHost(host)).toBe(false);
    },
  );
});

describe('createAddressSet', () => {
  it('holds the addresses of its CIDRs and single addresses, in any spelling', () => {
    const set = createAddressSet(['10.0.0.0/8', 'fd00::/8', '192.168.1.5', '::ffff:172.16.0.0/108', 'registry.corp']);
    expect(
      ['10.9.8.7', '::ffff:10.9.8.7', '[::ffff:a09:807]', 'fd12::1', '192.168.1.5', '172.16.3.4'].map((address) =>
        set.has(address),
      ),
    ).toEqual([true, true, true, true, true, true]);
    expect(
      ['11.0.0.1', 'fe80::1', '192.168.1.6', '172.32.0.1', 'registry.corp'].map((address) => set.has(address)),
    ).toEqual([false, false, false, false, false]);
  });

  it('leaves out what is not a range', () => {
    expect(['10.0.0.0/33', '10.0.0.0/x', 'fd00::/129', 'name/8', '/8'].map(isCidr)).toEqual([
      false,
      false,
      false,
      false,
      false,
    ]);
    expect(createAddressSet(['10.0.0.0/33']).has('10.0.0.1')).toBe(false);
    expect(['10.0.0.0/8', '::/0', '[fd00::]/8'].map(isCidr)).toEqual([true, true, true]);
  });
});

describe('host and port', () => {
  it.each([
    ['registry.corp:5000', ['registry.corp', '5000']],
    ['registry.corp', ['registry.corp', '']],
    ['[::1]:5000', ['::1', '5000']],
    ['[fd00::5]', ['fd00::5', '']],
    ['fd00::5', ['fd00::5', '']],
    ['10.1.2.3:443', ['10.1.2.3', '443']],
  ])('splitHostPort(%s)', (text, expected) => {
    expect(splitHostPort(text)).toEqual(expected);
  });

  it('unbracket strips the brackets of an IPv6 literal only', () => {
    expect([unbracket('[::1]'), unbracket('::1'), unbracket('registry')]).toEqual(['::1', '::1', 'registry']);
  });
});

describe('createAddressSet as dockerd reads InsecureRegistryCIDRs', () => {
  /** Per range: the addresses in it, then those outside it. */
  const ranges: Record<string, [inside: string[], outside: string[]]> = {
    '127.0.0.0/8': [
      ['127.0.0.1', '::ffff:127.0.0.5', '::ffff:7f00:5'],
      ['128.0.0.1', 'not-an-ip'],
    ],
    '10.1.0.0/16': [['10.1.255.255'], ['10.2.0.0']],
    'fd00::/8': [['fd00::1'], ['fe80::1', '127.0.0.1']],
    '::1/128': [['::1', '0:0:0:0:0:0:0:1'], ['::2']],
    '2001:db8::/32': [['2001:db8::1'], ['2001:db9::1']],
    '0.0.0.0/0': [['10.0.0.1'], []],
  };
  it.each(Object.entries(ranges))('%s', (cidr, [inside, outside]) => {
    const set = createAddressSet([cidr]);
    expect([...inside, ...outside].filter((address) => set.has(address))).toEqual(inside);
  });
});
