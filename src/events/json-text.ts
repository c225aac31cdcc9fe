/**
 * JSON string literals for the formats' hand-built lines. Most values
 * (paths, argv, ids) need no escaping: checking with one regex and
 * concatenating is about twice as fast as JSON.stringify on short strings.
 * Anything with a quote, backslash, control character or a surrogate
 * (lone surrogates must become \uXXXX, as JSON.stringify writes them) takes
 * JSON.stringify.
 */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

export function jsonString(s: string): string {
  return NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : '"' + s + '"';
}

/** Escaped content of a JSON string, without its quotes. */
export function jsonContent(s: string): string {
  const j = jsonString(s);
  return j.length === s.length + 2 ? s : j.slice(1, j.length - 1);
}

/**
 * JSON text embedded as a JSON string's content (without the outer
 * quotes): what `JSON.stringify(text).slice(1, -1)` gives, for fragments
 * that are later joined inside one pair of quotes.
 */
export function embedJson(text: string): string {
  const s = JSON.stringify(text);
  return s.slice(1, s.length - 1);
}
