/**
 * Forgiving XML reading for feeds and sitemaps, as feed readers read: htmlparser2's streaming
 * tokenizer gives the tags, this module the namespaces, xml:base, entities and recovery. What a
 * loose reader recovers (a bare "&", "<" in text, undeclared HTML entities, unclosed or
 * mis-nested tags, a truncated document, text after the root) is read and reported as a
 * warning; what is dangerous (external or parameter entities, expansion bombs, absurd nesting)
 * and a document without a root element are refused with an XmlError.
 */
import { QuoteType, Tokenizer, type TokenizerCallbacks } from "htmlparser2";
import { position, Problems, readProlog, References, shownName, XmlError } from "./_prolog.ts";
import { quote } from "../util/quote.ts";

export { XmlError } from "./_prolog.ts";

/** An element with its namespace resolved and its effective `xml:base`. */
export interface XmlElement {
  /** The name as written, prefix included (`dc:date`). */
  name: string;
  /** The name without its prefix (`date`). */
  local: string;
  /** Namespace URI; "" when the element is in no namespace, `undeclared:<prefix>` for an unknown one. */
  ns: string;
  /** Attributes by the name as written (`rdf:about`, `href`). */
  attrs: Record<string, string>;
  /** Child elements and text in document order; the root keeps no whitespace-only text. */
  children: XmlNode[];
  /** Namespace prefixes in scope ("" is the default namespace). */
  scope: Record<string, string>;
  /** Absolute base URI in effect for this element, when one is known. */
  base?: string;
  /** Set when the document ended before this element's end tag: its content may be cut. */
  truncated?: true;
}

/** A child of an element: an element or a run of text (CDATA included). */
export type XmlNode = XmlElement | string;

/** The parsed document and what was odd about it without being fatal. */
export interface XmlDocument {
  root: XmlElement;
  /** One line per problem, with the line and column of its first occurrence. */
  warnings: string[];
}

/** Options of `parseXml()`. */
export interface ParseXmlOptions {
  /** Base URI of the document (its URL, or Content-Location); default none. */
  baseUrl?: string;
  /**
   * Called with every element once it is complete, and its open ancestors (root first). When
   * it returns true the element is left out of its parent, so a reader that takes entries one
   * by one keeps memory flat. Default: every element is kept.
   */
  onElement?: (el: XmlElement, ancestors: readonly XmlElement[]) => boolean;
}

/** A prefix table without a prototype: a prefix such as "constructor" finds nothing in it. */
function prefixTable(entries: Record<string, string>): Record<string, string> {
  return Object.assign(Object.create(null), entries);
}

/** Prefixes that documents often use without declaring them. */
export const WELL_KNOWN_PREFIXES = prefixTable({
  xml: "http://www.w3.org/XML/1998/namespace",
  rdf: "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
  dc: "http://purl.org/dc/elements/1.1/",
  dcterms: "http://purl.org/dc/terms/",
  content: "http://purl.org/rss/1.0/modules/content/",
  atom: "http://www.w3.org/2005/Atom",
  media: "http://search.yahoo.com/mrss/",
  itunes: "http://www.itunes.com/dtds/podcast-1.0.dtd",
});

/** The namespace given to an undeclared prefix that is not well known: it matches no vocabulary. */
const UNDECLARED = "undeclared:";
const ROOT_SCOPE = prefixTable({ xml: WELL_KNOWN_PREFIXES.xml });
const MAX_DEPTH = 256;

/** Reads `text` as XML, recovering what feed readers recover; throws XmlError when it cannot. */
export function parseXml(text: string, options: ParseXmlOptions = {}): XmlDocument {
  const problems = new Problems();
  const prolog = readProlog(text, problems);
  const builder = new TreeBuilder(text, prolog.end, {
    refs: new References(prolog, problems, text),
    problems,
    options,
  });
  const tokenizer = new Tokenizer(
    { xmlMode: false, decodeEntities: false, recognizeSelfClosing: true },
    builder,
  );
  tokenizer.write(text.slice(prolog.end));
  tokenizer.end();
  if (!builder.root) throw new XmlError("no root element");
  return { root: builder.root, warnings: problems.lines(text) };
}

interface BuilderContext {
  refs: References;
  problems: Problems;
  options: ParseXmlOptions;
}

const NO_ATTRS: Record<string, string> = Object.freeze({}) as Record<string, string>;

/** A tag or attribute name, split once, with the namespace it was last resolved to. */
interface Name {
  name: string;
  local: string;
  prefix: string;
  /** The scope `ns` was found in; undefined until the name's prefix is found in one. */
  scope?: Record<string, string>;
  ns: string;
}

function nameOf(name: string): Name {
  const colon = name.indexOf(":");
  const local = colon < 0 ? name : name.slice(colon + 1);
  return { name, local, prefix: colon < 0 ? "" : name.slice(0, colon), scope: undefined, ns: "" };
}

const NO_NAME = nameOf("");

/**
 * Builds elements from the tokenizer's events. The tokenizer runs in its HTML mode, which reads
 * a "<" that cannot start a tag as text, as feed readers do; reporting a foreign (XML) context
 * turns off HTML's raw-text elements, so `<title>` and `<script>` are ordinary elements.
 */
class TreeBuilder implements TokenizerCallbacks {
  root?: XmlElement;
  #stack: XmlElement[] = [];
  #rootClosed = false;
  #tag: Name = NO_NAME;
  #tagStart = 0;
  #attrs: Record<string, string> | null = null;
  #attrName = "";
  #attrValue = "";
  #attrStart = 0;
  #declares = false;
  #names = new Map<number, Name>();

  constructor(
    private readonly text: string,
    private readonly offset: number,
    private readonly ctx: BuilderContext,
  ) {}

  isInForeignContext(): boolean {
    return true;
  }

  onopentagname(start: number, end: number): void {
    this.#tag = this.#name(start, end);
    this.#tagStart = start - 1;
    this.#attrs = null;
    this.#declares = false;
  }

  onattribname(start: number, end: number): void {
    this.#attrName = this.#name(start, end).name;
    this.#attrStart = start;
  }

  onattribdata(start: number, end: number): void {
    this.#attrValue += this.#slice(start, end);
  }

  onattribentity(): void {}

  onattribend(quote: QuoteType): void {
    if (quote === QuoteType.NoValue) this.#problem("an attribute without a value", this.#attrStart);
    const attrs = this.#attrs ??= {};
    // Only xmlns, xmlns:* and xml:base change what children inherit.
    if (this.#attrName.startsWith("xml")) this.#declares = true;
    if (!(this.#attrName in attrs)) {
      attrs[this.#attrName] = this.ctx.refs.decode(this.#attrValue, this.offset + this.#attrStart);
    }
    this.#attrValue = "";
  }

  onopentagend(): void {
    this.#open();
  }

  onselfclosingtag(): void {
    this.#close(this.#open());
  }

  onclosetag(start: number, end: number): void {
    const name = this.#name(start, end).name;
    const stack = this.#stack;
    let index = stack.length - 1;
    while (index >= 0 && stack[index].name !== name) index--;
    if (index < 0) {
      this.#problem(
        `an end tag </${shownName(name)}> that closes no open element (ignored)`,
        start - 2,
      );
      return;
    }
    while (stack.length - 1 > index) {
      const unclosed = stack[stack.length - 1];
      this.#problem(
        `an unclosed <${shownName(unclosed.name)}> (closed by </${shownName(name)}>)`,
        start - 2,
      );
      this.#close(unclosed);
    }
    this.#close(stack[index]);
  }

  ontext(start: number, end: number): void {
    const raw = this.#slice(start, end);
    const stack = this.#stack;
    const parent = stack[stack.length - 1];
    if (!parent) return this.#outsideRoot(raw, start);
    // Whitespace between the root's children only lays the document out: nobody reads it, and
    // kept it would grow with every entry of a sitemap or feed.
    if (stack.length === 1 && raw.trim() === "") return;
    if (raw.includes("<")) this.#problem('a "<" in text (read as text)', start + raw.indexOf("<"));
    this.#append(parent, this.ctx.refs.decode(raw, this.offset + start));
  }

  ontextentity(): void {}

  oncdata(start: number, end: number, endOffset: number): void {
    const parent = this.#stack[this.#stack.length - 1];
    const text = this.#slice(start, end - endOffset);
    if (parent) this.#append(parent, text);
    else this.#outsideRoot(text, start);
  }

  oncomment(): void {}

  ondeclaration(start: number): void {
    this.#problem("a declaration after the prolog (ignored)", start - 2);
  }

  onprocessinginstruction(): void {}

  onend(): void {
    const stack = this.#stack;
    if (stack.length) {
      this.#problem(
        `the document ends inside <${shownName(stack.at(-1)!.name)}>`,
        this.text.length - this.offset,
      );
    }
    while (stack.length) {
      const el = stack.at(-1)!;
      el.truncated = true;
      this.#close(el);
    }
  }

  #slice(start: number, end: number): string {
    return this.text.slice(this.offset + start, this.offset + end);
  }

  /**
   * The tag or attribute name at [start, end): the same record each time the name recurs, so
   * a document of a million elements does not make a million copies of "url" and "loc".
   */
  #name(start: number, end: number): Name {
    const text = this.text;
    const from = this.offset + start;
    const length = end - start;
    const key = length * 0x10001 + text.charCodeAt(from) * 0x101 +
      text.charCodeAt(from + length - 1) * 7 + text.charCodeAt(from + (length >> 1));
    const known = this.#names.get(key);
    if (known !== undefined && known.name.length === length && text.startsWith(known.name, from)) {
      return known;
    }
    const name = nameOf(text.slice(from, from + length));
    this.#names.set(key, name);
    return name;
  }

  #problem(message: string, index: number): void {
    this.ctx.problems.add(message, this.offset + index);
  }

  #outsideRoot(text: string, start: number): void {
    if (text.trim() === "") return;
    const where = this.root ? "after" : "before";
    this.#problem(`text ${where} the root element (ignored)`, start);
  }

  #append(parent: XmlElement, text: string): void {
    const children = parent.children;
    const last = children.length - 1;
    if (last >= 0 && typeof children[last] === "string") children[last] += text;
    else children.push(text);
  }

  #open(): XmlElement {
    const stack = this.#stack;
    if (this.#rootClosed && stack.length === 0) {
      this.#problem(
        `an element <${shownName(this.#tag.name)}> after the root element (ignored)`,
        this.#tagStart,
      );
    }
    if (stack.length >= MAX_DEPTH) {
      const { line, col } = position(this.text, this.offset + this.#tagStart);
      throw new XmlError("elements are nested too deeply", line, col);
    }
    const el = this.#element(this.#tag, this.#attrs ?? NO_ATTRS, stack[stack.length - 1]);
    this.#declares = false;
    stack.push(el);
    this.root ??= el;
    return el;
  }

  #close(el: XmlElement): void {
    const stack = this.#stack;
    stack.pop();
    const parent = stack[stack.length - 1];
    if (!parent) {
      if (el === this.root) this.#rootClosed = true;
      return;
    }
    const drop = this.ctx.options.onElement?.(el, stack) ?? false;
    if (!drop) parent.children.push(el);
  }

  #element(tag: Name, attrs: Record<string, string>, parent?: XmlElement): XmlElement {
    const parentScope = parent?.scope ?? ROOT_SCOPE;
    const parentBase = parent ? parent.base : this.ctx.options.baseUrl;
    const declares = this.#declares;
    const scope = declares ? declaredScope(attrs, parentScope) : parentScope;
    const base = declares ? resolveBase(attrs["xml:base"], parentBase) : parentBase;
    if (tag.scope !== scope) {
      tag.ns = this.#namespaceOf(tag.prefix, scope);
      // An undeclared prefix is reported each time it is met: only a found namespace is kept.
      tag.scope = tag.prefix === "" || scope[tag.prefix] !== undefined ? scope : undefined;
    }
    return { name: tag.name, local: tag.local, ns: tag.ns, attrs, children: [], scope, base };
  }

  #namespaceOf(prefix: string, scope: Record<string, string>): string {
    const uri = scope[prefix];
    if (uri !== undefined) return uri;
    if (prefix === "") return "";
    this.#problem(`an undeclared namespace prefix ${quote(prefix)}`, this.#tagStart);
    // An unknown prefix is a namespace of its own, so `<slash:comments>` is not RSS `<comments>`.
    return WELL_KNOWN_PREFIXES[prefix] ?? `${UNDECLARED}${prefix}`;
  }
}

function declaredScope(
  attrs: Record<string, string>,
  parent: Record<string, string>,
): Record<string, string> {
  let scope = parent;
  for (const key in attrs) {
    if (key !== "xmlns" && !key.startsWith("xmlns:")) continue;
    if (scope === parent) scope = prefixTable(parent);
    scope[key === "xmlns" ? "" : key.slice(6)] = attrs[key].trim();
  }
  return scope;
}

const SAFE_BASE_SCHEMES = new Set(["http:", "https:", "ftp:", "file:"]);

function resolveBase(value: string | undefined, parent: string | undefined): string | undefined {
  if (value === undefined) return parent;
  try {
    const url = new URL(value.trim(), parent);
    return SAFE_BASE_SCHEMES.has(url.protocol) ? url.href : parent;
  } catch {
    return parent;
  }
}
