import { findNextLink, parseLinkHeader } from '../../payload/locator/registry/paging/parse-link-header';

const request = 'http://127.0.0.1:5000/v2/team/app/tags/list?n=100';

describe('parseLinkHeader', () => {
  it('parses several links with quoted and bare parameters', () => {
    expect(parseLinkHeader('</a?x=1>; rel="next"; title="a, b", <https://h/b>;rel=prev')).toEqual([
      { target: '/a?x=1', params: { rel: 'next', title: 'a, b' } },
      { target: 'https://h/b', params: { rel: 'prev' } },
    ]);
  });
});

describe('findNextLink', () => {
  it('resolves the relative link distribution sends against the request URL', () => {
    expect(findNextLink('</v2/team/app/tags/list?last=1.2.0&n=100>; rel="next"', request)).toBe(
      'http://127.0.0.1:5000/v2/team/app/tags/list?last=1.2.0&n=100',
    );
  });

  it('keeps absolute links, also on another host', () => {
    expect(findNextLink('<https://cdn.example.com/v2/team/app/tags/list?page=2>; rel="next"', request)).toBe(
      'https://cdn.example.com/v2/team/app/tags/list?page=2',
    );
  });

  it('passes opaque page tokens through untouched', () => {
    const token = 'AAAB%2Fc3RhdGU%3D%3D&x=a+b';
    expect(findNextLink(`</v2/team/app/tags/list?next_page=${token}>; rel="next"`, request)).toBe(
      `http://127.0.0.1:5000/v2/team/app/tags/list?next_page=${token}`,
    );
  });

  it('finds next among other relations, in any case and with bare values', () => {
    expect(findNextLink('</first>; rel="first", </p2>; rel=NEXT', request)).toBe('http://127.0.0.1:5000/p2');
    expect(findNextLink('</p2>; rel="prev next"', request)).toBe('http://127.0.0.1:5000/p2');
  });

  it('means "last page" when there is no next link', () => {
    expect(findNextLink(null, request)).toBeUndefined();
    expect(findNextLink('', request)).toBeUndefined();
    expect(findNextLink('</first>; rel="first"', request)).toBeUndefined();
  });

  it('refuses next links that are not plain http(s) URLs, without echoing credentials', () => {
    expect(() => findNextLink('<file:///etc/passwd>; rel="next"', request)).toThrow(/not a plain http/);
    expect(() => findNextLink('<javascript:alert(1)>; rel="next"', request)).toThrow(/not a plain http/);
    expect(() => findNextLink('<http://user:pw@evil/x>; rel="next"', request)).toThrow(/not a plain http/);
    expect(() => findNextLink('<http://user:pw@evil/x>; rel="next"', request)).not.toThrow(/pw/);
    expect(() => findNextLink('<http://[::1>; rel="next"', request)).toThrow(/not a URL/);
  });
});
