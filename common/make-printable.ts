/**
 * Text that came from the user, a registry or the engine, made safe to print on a
 * terminal (pure). An image name, a tag or a registry's error message may carry escape
 * sequences that recolour, retitle, clear or rewrite the screen, or bidirectional
 * overrides that make a line read differently from what it says (terminal injection):
 * every such character is shown as a visible escape instead, never passed through.
 */

// C0 controls (tab and newline included: a message is one line), DEL, C1 controls, the
// Unicode bidirectional marks, embeddings, overrides and isolates, and the characters that
// show as nothing at all: zero width space, word joiner, byte-order mark.
// eslint-disable-next-line no-control-regex -- control characters are what it looks for
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u061c\u200b\u200e\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]/g;

export function makePrintable(text: string): string {
  return text.replace(UNPRINTABLE, formatEscape);
}

/**
 * `\x1b` for ASCII controls, `\u009b` or `\u202e` for the rest: what a reader can look up,
 * and what bash's `$'…'` reads back as the same character (`\x9b` would be a lone byte).
 */
export function formatEscape(character: string): string {
  const code = character.charCodeAt(0);
  return code < 0x80 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

export function hasUnprintable(text: string): boolean {
  UNPRINTABLE.lastIndex = 0;
  const found = UNPRINTABLE.test(text);
  UNPRINTABLE.lastIndex = 0;
  return found;
}
