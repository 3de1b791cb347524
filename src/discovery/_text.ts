/** Turning feed text constructs into plain text. */
import { Parser } from "htmlparser2";

const SKIPPED_TAGS = new Set(["script", "style", "template"]);
const BREAKING_TAGS = new Set([
  "address",
  "article",
  "blockquote",
  "br",
  "dd",
  "div",
  "dl",
  "dt",
  "figcaption",
  "figure",
  "footer",
  "h1",
  "h2",
  "h3",
  "h4",
  "h5",
  "h6",
  "header",
  "hr",
  "li",
  "ol",
  "p",
  "pre",
  "section",
  "table",
  "td",
  "th",
  "tr",
  "ul",
]);

/** Plain text of an HTML fragment: tags dropped, entities decoded, whitespace collapsed. */
export function htmlToText(html: string): string {
  if (!html.includes("<") && !html.includes("&")) return collapse(html);
  let out = "";
  let skipping = 0;
  const parser = new Parser({
    onopentagname(name) {
      if (SKIPPED_TAGS.has(name)) skipping++;
      if (BREAKING_TAGS.has(name)) out += " ";
    },
    onclosetag(name) {
      if (SKIPPED_TAGS.has(name) && skipping > 0) skipping--;
      if (BREAKING_TAGS.has(name)) out += " ";
    },
    ontext(text) {
      if (skipping === 0) out += text;
    },
  }, { decodeEntities: true });
  parser.end(html);
  return collapse(out);
}

// Anything collapse() would change inside a text: control characters, whitespace that is not a
// single space.
const UNCOLLAPSED =
  // deno-lint-ignore no-control-regex
  /[\x00-\x1f\x7f\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]| {2}/;

/** Whitespace runs as one space, ends trimmed. */
export function collapse(text: string): string {
  if (!UNCOLLAPSED.test(text)) return text.trim();
  // Control characters are not allowed in XML text; some feeds carry them all the same.
  // deno-lint-ignore no-control-regex
  return text.replace(/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/g, "").replace(/\s+/g, " ").trim();
}

/** A link or id as written, resolved against `base` when relative; undefined when empty. */
export function resolveUrl(
  value: string | undefined,
  base: string | undefined,
): string | undefined {
  const text = value?.trim();
  if (!text) return undefined;
  if (base === undefined || /^[a-z][a-z0-9+.-]*:/i.test(text)) return text;
  try {
    return new URL(text, base).href;
  } catch {
    return text;
  }
}

/** Decode base64 text as UTF-8; undefined when it is not base64. */
export function decodeBase64(text: string): string | undefined {
  try {
    const binary = atob(text.replace(/\s+/g, ""));
    const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

/** Whether `value` is an absolute http(s) URL: the only kind that becomes an item's URL. */
export function isHttpUrl(value: string | undefined): boolean {
  return value !== undefined && /^https?:\/\/[^\s/?#]/i.test(value.trim());
}
