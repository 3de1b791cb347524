/**
 * The prolog of an XML document — XML declaration, comments, the DOCTYPE and the entities its
 * internal subset declares — and the expansion of entity and character references. External
 * and parameter entities are refused, never fetched; expansion is bounded.
 */
import { decodeHTMLStrict } from "entities";
import { quote } from "../util/quote.ts";

/** An XML document that cannot be read; `line`/`col` locate the problem when known. */
export class XmlError extends Error {
  override name = "XmlError";
  constructor(message: string, readonly line?: number, readonly col?: number) {
    super(line === undefined ? message : `${message} at line ${line}, column ${col}`);
  }
}

/** Problems met while reading that did not stop it: the first place of each, and a count. */
export class Problems {
  #seen = new Map<string, { index: number; count: number }>();

  /** Notes `message` at character `index` of the document. */
  add(message: string, index: number): void {
    const seen = this.#seen.get(message);
    if (seen) seen.count++;
    else this.#seen.set(message, { index, count: 1 });
  }

  /** Whether anything was noted. */
  get any(): boolean {
    return this.#seen.size > 0;
  }

  /** One line per problem: "<message> at line L, column C (N times)". */
  lines(text: string): string[] {
    return [...this.#seen].map(([message, { index, count }]) => {
      const { line, col } = position(text, index);
      return `${message} at line ${line}, column ${col}${count > 1 ? ` (${count} times)` : ""}`;
    });
  }
}

/** The 1-based line and column of character `index` of `text`. */
export function position(text: string, index: number): { line: number; col: number } {
  let line = 1;
  let start = 0;
  for (let nl = text.indexOf("\n"); nl >= 0 && nl < index; nl = text.indexOf("\n", nl + 1)) {
    line++;
    start = nl + 1;
  }
  return { line, col: index - start + 1 };
}

/** What the prolog declares. */
export interface Prolog {
  /** Index of the first character after the prolog: where the root element should start. */
  end: number;
  /** General entities of the internal subset: name → replacement text as written. */
  entities: Map<string, string>;
  /** The DOCTYPE names an external DTD, so undeclared entities may be declared there. */
  externalSubset: boolean;
}

const DANGEROUS = "external and parameter entities are not allowed";

/** Reads the prolog of `text`; throws XmlError for external or parameter entities. */
export function readProlog(text: string, problems: Problems): Prolog {
  const prolog: Prolog = { end: 0, entities: new Map(), externalSubset: false };
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  for (;;) {
    while (i < text.length && isSpace(text.charCodeAt(i))) i++;
    if (text.startsWith("\ufeff", i)) {
      problems.add("a byte-order mark after the start of the document", i++);
    } else if (/^<\?xml[\s?]/.test(text.slice(i, i + 6))) {
      if (i > 0) problems.add("the XML declaration is not at the start of the document", i);
      i = after(text, "?>", i);
    } else if (text.startsWith("<?", i)) i = after(text, "?>", i);
    else if (text.startsWith("<!--", i)) i = after(text, "-->", i + 4);
    else if (/^<!DOCTYPE/i.test(text.slice(i, i + 9))) i = readDoctype(text, i, prolog, problems);
    else break;
  }
  prolog.end = i;
  return prolog;
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/** The index after the next `marker` from `from`, or the end of `text`. */
function after(text: string, marker: string, from: number): number {
  const at = text.indexOf(marker, from);
  return at < 0 ? text.length : at + marker.length;
}

function readDoctype(text: string, start: number, prolog: Prolog, problems: Problems): number {
  const head = /^<!DOCTYPE\s+[^\s[>]+\s+(SYSTEM|PUBLIC)\b/i.exec(text.slice(start, start + 512));
  if (head) prolog.externalSubset = true;
  for (let j = start + 9; j < text.length; j++) {
    const c = text[j];
    if (c === '"' || c === "'") j = after(text, c, j + 1) - 1;
    else if (c === "[") j = readSubset(text, j + 1, prolog, problems) - 1;
    else if (c === ">") return j + 1;
  }
  return text.length;
}

const ENTITY = /<!ENTITY\s+(%\s*)?([^\s"'>%]+)\s+(?:"([^"]*)"|'([^']*)'|(SYSTEM|PUBLIC)\b)[^>]*>/y;

/** Reads the internal subset from `j`; returns the index after its closing "]". */
function readSubset(text: string, j: number, prolog: Prolog, problems: Problems): number {
  while (j < text.length) {
    const c = text[j];
    if (isSpace(text.charCodeAt(j))) j++;
    else if (c === "]") return j + 1;
    else if (c === "%") throw new XmlError(DANGEROUS, ...lineCol(text, j));
    else if (text.startsWith("<!--", j)) j = after(text, "-->", j + 4);
    else if (text.startsWith("<?", j)) j = after(text, "?>", j);
    else if (text.startsWith("<!ENTITY", j)) j = readEntity(text, j, prolog, problems);
    else if (text.startsWith("<!", j)) j = afterDeclaration(text, j);
    else {
      problems.add("unexpected text in the DOCTYPE", j);
      j = afterDeclaration(text, j);
    }
  }
  return j;
}

function readEntity(text: string, j: number, prolog: Prolog, problems: Problems): number {
  ENTITY.lastIndex = j;
  const m = ENTITY.exec(text);
  if (!m) {
    problems.add("an entity declaration that cannot be read", j);
    return afterDeclaration(text, j);
  }
  if (m[1] !== undefined || m[5] !== undefined) throw new XmlError(DANGEROUS, ...lineCol(text, j));
  // The first declaration of a name is binding.
  if (!prolog.entities.has(m[2])) prolog.entities.set(m[2], m[3] ?? m[4]);
  return ENTITY.lastIndex;
}

/** The index after the `>` that ends the declaration at `j`, skipping quoted literals. */
function afterDeclaration(text: string, j: number): number {
  for (let k = j; k < text.length; k++) {
    const c = text[k];
    if (c === '"' || c === "'") k = after(text, c, k + 1) - 1;
    else if (c === ">") return k + 1;
  }
  return text.length;
}

function lineCol(text: string, index: number): [number, number] {
  const { line, col } = position(text, index);
  return [line, col];
}

/** Characters one declared entity may expand to, and all expansions of a document together. */
const MAX_ENTITY_CHARS = 100_000;
const MAX_EXPANDED_CHARS = 1_000_000;

const NAME = /^[A-Za-z_:][\w.:\-\u00b7-\uffff]*$/;
const NUMERIC = /^#(?:([0-9]{1,8})|[xX]([0-9a-fA-F]{1,8}))$/;
/** Longest reference looked for after an "&": entity names are short. */
const MAX_REFERENCE = 64;

/** Expands character and entity references of text and attribute values. */
export class References {
  #expanded = new Map<string, string>();
  #expanding = new Set<string>();
  #budget = MAX_EXPANDED_CHARS;

  constructor(
    private readonly prolog: Prolog,
    private readonly problems: Problems,
    private readonly text: string,
  ) {}

  /** `raw` with its references replaced; `index` is where it starts in the document. */
  decode(raw: string, index: number): string {
    let amp = raw.indexOf("&");
    if (amp < 0) return raw;
    let out = "";
    let done = 0;
    while (amp >= 0) {
      out += raw.slice(done, amp);
      const semi = raw.indexOf(";", amp + 1);
      const value = semi > amp + 1 && semi - amp <= MAX_REFERENCE
        ? this.#reference(raw.slice(amp + 1, semi), index + amp)
        : undefined;
      if (value === undefined) {
        this.problems.add('a bare "&" (read as text)', index + amp);
        out += "&";
        done = amp + 1;
      } else {
        out += value;
        done = semi + 1;
      }
      amp = raw.indexOf("&", done);
    }
    return out + raw.slice(done);
  }

  /** The text of reference `&ref;`; undefined when `ref` is not a reference at all. */
  #reference(ref: string, at: number): string | undefined {
    switch (ref) {
      case "amp":
        return "&";
      case "lt":
        return "<";
      case "gt":
        return ">";
      case "quot":
        return '"';
      case "apos":
        return "'";
    }
    if (ref.charCodeAt(0) === 0x23) {
      const m = NUMERIC.exec(ref);
      if (!m) return undefined;
      const char = codePoint(Number.parseInt(m[1] ?? m[2], m[1] ? 10 : 16));
      if (char !== undefined) return char;
      this.problems.add(`an invalid character reference &${ref};`, at);
      return "\ufffd";
    }
    return NAME.test(ref) ? this.#named(ref, at) : undefined;
  }

  #named(name: string, at: number): string {
    const declared = this.prolog.entities.get(name);
    if (declared !== undefined) {
      const value = this.#expand(name, declared, at);
      this.#spend(value.length, at);
      return value;
    }
    const html = htmlEntity(name);
    if (html === undefined) {
      return this.#problem(
        `an undefined entity &${shownName(name)}; (kept as text)`,
        at,
        `&${name};`,
      );
    }
    if (this.prolog.externalSubset) return html;
    return this.#problem(`an undeclared HTML entity &${shownName(name)}; (read as HTML)`, at, html);
  }

  #expand(name: string, raw: string, at: number): string {
    const known = this.#expanded.get(name);
    if (known !== undefined) return known;
    if (this.#expanding.has(name)) {
      throw new XmlError(`the entity ${quote(name)} refers to itself`, ...lineCol(this.text, at));
    }
    this.#expanding.add(name);
    const value = this.decode(raw, at);
    this.#expanding.delete(name);
    if (value.length > MAX_ENTITY_CHARS) this.#spend(Infinity, at);
    this.#expanded.set(name, value);
    return value;
  }

  #spend(chars: number, at: number): void {
    this.#budget -= chars;
    if (this.#budget < 0) {
      throw new XmlError("entity expansion exceeds the allowed size", ...lineCol(this.text, at));
    }
  }

  #problem(message: string, at: number, replacement: string): string {
    this.problems.add(message, at);
    return replacement;
  }
}

function codePoint(n: number): string | undefined {
  const valid = n === 0x9 || n === 0xa || n === 0xd || (n >= 0x20 && n <= 0xd7ff) ||
    (n >= 0xe000 && n <= 0xfffd) || (n >= 0x10000 && n <= 0x10ffff);
  return valid ? String.fromCodePoint(n) : undefined;
}

const HTML_CACHE = new Map<string, string | undefined>();

/** The text of an HTML named entity; undefined when HTML has no such name. */
function htmlEntity(name: string): string | undefined {
  if (HTML_CACHE.has(name)) return HTML_CACHE.get(name);
  const ref = `&${name};`;
  const decoded = decodeHTMLStrict(ref);
  const value = decoded === ref ? undefined : decoded;
  HTML_CACHE.set(name, value);
  return value;
}

/** A tag or entity name as messages show it: as written when short and plain, else quoted. */
export function shownName(name: string): string {
  return name.length <= 80 && /^[\w:.-]*$/.test(name) ? name : quote(name);
}
