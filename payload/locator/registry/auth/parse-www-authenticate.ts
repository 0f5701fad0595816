/**
 * Parses a `WWW-Authenticate` header (RFC 7235 §4.1) into its challenges. A registry answers
 * 401 with one, e.g.
 *   Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:team/app:pull,push"
 * (https://distribution.github.io/distribution/spec/auth/token/). Quoted values may contain
 * commas and escaped quotes, and one header may hold several challenges (fetch joins repeated
 * headers with ", "), so a plain split on commas is wrong.
 */

export interface AuthChallenge {
  /** Lower-case scheme: `bearer`, `basic`, … */
  scheme: string;
  /** Parameters with lower-case names, values unquoted. */
  params: Record<string, string>;
}

const TOKEN_CHAR = /[!#$%&'*+.^_`|~0-9A-Za-z-]/;

export function parseWwwAuthenticate(header: string | null | undefined): AuthChallenge[] {
  const text = header ?? '';
  const challenges: AuthChallenge[] = [];
  let pos = 0;

  const skip = (chars: RegExp) => {
    while (pos < text.length && chars.test(text.charAt(pos))) pos++;
  };
  const readToken = (): string => {
    const start = pos;
    while (pos < text.length && TOKEN_CHAR.test(text.charAt(pos))) pos++;
    return text.slice(start, pos);
  };
  const readQuoted = (): string => {
    let value = '';
    pos++; // opening quote
    while (pos < text.length && text[pos] !== '"') {
      if (text[pos] === '\\' && pos + 1 < text.length) pos++;
      value += text[pos++];
    }
    pos++; // closing quote (or end of text)
    return value;
  };
  // Anything after a value up to the next comma is malformed; skip it rather than fail.
  const skipToComma = () => {
    while (pos < text.length && text[pos] !== ',') pos++;
  };

  while (pos < text.length) {
    skip(/[\s,]/);
    const scheme = readToken();
    if (!scheme) {
      pos++;
      skipToComma();
      continue;
    }
    const challenge: AuthChallenge = { scheme: scheme.toLowerCase(), params: {} };
    challenges.push(challenge);
    for (;;) {
      skip(/[\s,]/);
      const paramStart = pos;
      const name = readToken();
      skip(/[ \t]/);
      if (!name || text[pos] !== '=') {
        // Not `name=`: either the next challenge's scheme or a token68 (e.g. Negotiate's
        // blob), which registries do not use.
        pos = paramStart;
        break;
      }
      pos++; // '='
      skip(/[ \t]/);
      const value = text[pos] === '"' ? readQuoted() : readToken();
      challenge.params[name.toLowerCase()] = value;
      skip(/[ \t]/);
      if (pos < text.length && text[pos] !== ',') skipToComma();
    }
  }
  return challenges;
}
