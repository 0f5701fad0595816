/**
 * Parses a `Link` header (RFC 8288 §3) as registries send it for paginated tag lists:
 *   </v2/team/app/tags/list?last=1.2.0&n=100>; rel="next"
 * (https://distribution.github.io/distribution/spec/api/#pagination). The target may be
 * relative, and its query may be an opaque page token rather than `last`/`n`, so it is
 * resolved against the request URL and otherwise followed exactly as sent.
 */

export interface LinkValue {
  /** The target exactly as written between `<` and `>`. */
  target: string;
  /** Parameters with lower-case names, values unquoted. */
  params: Record<string, string>;
}

export function parseLinkHeader(header: string | null | undefined): LinkValue[] {
  const text = header ?? '';
  const links: LinkValue[] = [];
  let pos = 0;
  while (pos < text.length) {
    const open = text.indexOf('<', pos);
    if (open < 0) break;
    const close = text.indexOf('>', open + 1);
    if (close < 0) break;
    const link: LinkValue = { target: text.slice(open + 1, close).trim(), params: {} };
    links.push(link);
    pos = close + 1;
    // `; name=value` or `; name="quoted, value"` until the comma that starts the next link.
    while (pos < text.length) {
      while (pos < text.length && /[\s;]/.test(text.charAt(pos))) pos++;
      if (pos >= text.length || text[pos] === ',') break;
      const nameMatch = /^[^=;,\s]+/.exec(text.slice(pos));
      if (!nameMatch) {
        pos++;
        continue;
      }
      const name = nameMatch[0].toLowerCase();
      pos += name.length;
      while (pos < text.length && /[ \t]/.test(text.charAt(pos))) pos++;
      let value = '';
      if (text[pos] === '=') {
        pos++;
        while (pos < text.length && /[ \t]/.test(text.charAt(pos))) pos++;
        if (text[pos] === '"') {
          pos++;
          while (pos < text.length && text[pos] !== '"') {
            if (text[pos] === '\\' && pos + 1 < text.length) pos++;
            value += text[pos++];
          }
          pos++;
        } else {
          const valueMatch = /^[^;,\s]*/.exec(text.slice(pos))!;
          value = valueMatch[0];
          pos += value.length;
        }
      }
      if (!(name in link.params)) link.params[name] = value;
    }
    if (text[pos] === ',') pos++;
  }
  return links;
}

/**
 * The absolute URL of the `rel="next"` link, resolved against `requestUrl`, or undefined when
 * there is none (the last page). Throws when the next link is not a plain http(s) URL: taking
 * that for "last page" would silently drop tags.
 */
export function findNextLink(header: string | null | undefined, requestUrl: string): string | undefined {
  const next = parseLinkHeader(header).find((link) =>
    (link.params.rel ?? '').toLowerCase().split(/\s+/).includes('next'),
  );
  if (!next) return undefined;
  let url: URL;
  try {
    url = new URL(next.target, requestUrl);
  } catch {
    throw new Error(`the next-page link "${next.target.slice(0, 200)}" is not a URL`);
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.username || url.password) {
    throw new Error(`the next-page link "${url.protocol}//${url.host}${url.pathname}" is not a plain http(s) URL`);
  }
  return url.toString();
}
