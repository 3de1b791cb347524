/** Safe XML reading for feeds and sitemaps: bytes → text → a namespace-aware element tree. */
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { quote } from "../util/quote.ts";

/** An element with its namespace resolved and its effective `xml:base`. */
export interface XmlElement {
  /** The name as written, prefix included (`dc:date`). */
  name: string;
  /** The name without its prefix (`date`). */
  local: string;
  /** Namespace URI; "" when the element is in no namespace. */
  ns: string;
  /** Attributes by the name as written (`rdf:about`, `href`). */
  attrs: Record<string, string>;
  children: XmlNode[];
  /** Namespace prefixes in scope ("" is the default namespace). */
  scope: Record<string, string>;
  /** Absolute base URI in effect for this element, when one is known. */
  base?: string;
}

/** A child of an element: an element or a run of text (CDATA included). */
export type XmlNode = XmlElement | string;

/** The parsed document and what was odd about it without being fatal. */
export interface XmlDocument {
  root: XmlElement;
  warnings: string[];
}

/** Options of `parseXml()`. */
export interface ParseXmlOptions {
  /** Base URI of the document (its URL, or Content-Location); default none. */
  baseUrl?: string;
}

/** An XML document that cannot be read; `line`/`col` locate the problem when known. */
export class XmlError extends Error {
  override name = "XmlError";
  constructor(message: string, readonly line?: number, readonly col?: number) {
    super(line === undefined ? message : `${message} at line ${line}, column ${col}`);
  }
}

/** Prefixes that documents often use without declaring them. */
const WELL_KNOWN_PREFIXES: Record<string, string> = {
  xml: "http://www.w3.org/XML/1998/namespace",
  rdf: "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
  dc: "http://purl.org/dc/elements/1.1/",
  dcterms: "http://purl.org/dc/terms/",
  content: "http://purl.org/rss/1.0/modules/content/",
  atom: "http://www.w3.org/2005/Atom",
  media: "http://search.yahoo.com/mrss/",
  itunes: "http://www.itunes.com/dtds/podcast-1.0.dtd",
};

// DOCTYPE-declared entities: only short, flat replacement texts are expanded; an entity
// whose text refers to another entity is never defined, so "billion laughs" stays literal.
const PARSER = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: "",
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  processEntities: {
    enabled: true,
    maxEntitySize: 1024,
    maxEntityCount: 64,
    // Counts only growth, so the built-in entities never reach it; declared ones soon do.
    maxExpandedLength: 1_000_000,
  },
  htmlEntities: true,
  maxNestedTags: 256,
});

type RawNode = Record<string, unknown>;

/** Parse well-formed XML into an element tree; throws `XmlError` naming the problem. */
export function parseXml(text: string, options: ParseXmlOptions = {}): XmlDocument {
  const checked = XMLValidator.validate(text, { allowBooleanAttributes: false });
  if (checked !== true) {
    const { msg, line, col } = checked.err;
    throw new XmlError(boundNames(msg.replace(/\.$/, "")), line, col);
  }
  let raw: RawNode[];
  try {
    raw = PARSER.parse(text) as RawNode[];
  } catch (err) {
    throw new XmlError(describeParserError(err));
  }
  const top = raw.find((n) => elementName(n) !== undefined && !elementName(n)!.startsWith("?"));
  if (!top) throw new XmlError("no root element");
  const warnings: string[] = [];
  const root = buildElement(top, {
    scope: WELL_KNOWN_SCOPE_ROOT,
    base: options.baseUrl,
    warnings,
  });
  return { root, warnings };
}

const WELL_KNOWN_SCOPE_ROOT: Record<string, string> = { xml: WELL_KNOWN_PREFIXES.xml };

/** The parser quotes tag and attribute names as 'name'; a name can be as long as the input. */
function boundNames(message: string): string {
  return message.replace(/'([^']*)'/g, (_, name: string) => quote(name));
}

function describeParserError(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  if (/external entit/i.test(message) || /entity name %/i.test(message)) {
    return "external and parameter entities are not allowed";
  }
  if (/expan/i.test(message)) return "entity expansion exceeds the allowed size";
  if (/Entity/i.test(message)) return "an entity declaration exceeds the allowed size";
  if (/nested tags/i.test(message)) return "elements are nested too deeply";
  return boundNames(message.replace(/\.$/, ""));
}

function elementName(node: RawNode): string | undefined {
  for (const key in node) {
    if (key !== ":@" && key !== "#text") return key;
  }
  return undefined;
}

interface BuildContext {
  scope: Record<string, string>;
  base?: string;
  warnings: string[];
}

const NO_ATTRS: Record<string, string> = Object.freeze({}) as Record<string, string>;

function buildElement(node: RawNode, ctx: BuildContext): XmlElement {
  const name = elementName(node)!;
  const attrs = (node[":@"] ?? NO_ATTRS) as Record<string, string>;
  const declares = attrs !== NO_ATTRS;
  const scope = declares ? declaredScope(attrs, ctx.scope) : ctx.scope;
  const base = declares ? resolveBase(attrs["xml:base"], ctx.base) : ctx.base;
  const inner: BuildContext = scope === ctx.scope && base === ctx.base
    ? ctx
    : { scope, base, warnings: ctx.warnings };
  const children: XmlNode[] = [];
  for (const child of (node[name] ?? []) as RawNode[]) {
    const text = child["#text"];
    if (text !== undefined) children.push(String(text));
    else if (elementName(child) !== undefined) children.push(buildElement(child, inner));
  }
  const colon = name.indexOf(":");
  const local = colon < 0 ? name : name.slice(colon + 1);
  const ns = namespaceOf(colon < 0 ? "" : name.slice(0, colon), scope, ctx.warnings);
  return { name, local, ns, attrs, children, scope, base };
}

function declaredScope(
  attrs: Record<string, string>,
  parent: Record<string, string>,
): Record<string, string> {
  let scope = parent;
  for (const [key, value] of Object.entries(attrs)) {
    if (key !== "xmlns" && !key.startsWith("xmlns:")) continue;
    if (scope === parent) scope = { ...parent };
    scope[key === "xmlns" ? "" : key.slice(6)] = value.trim();
  }
  return scope;
}

function namespaceOf(prefix: string, scope: Record<string, string>, warnings: string[]): string {
  const uri = scope[prefix];
  if (uri !== undefined) return uri;
  if (prefix === "") return "";
  const message = `undeclared namespace prefix "${prefix}"`;
  if (!warnings.includes(message)) warnings.push(message);
  return WELL_KNOWN_PREFIXES[prefix] ?? "";
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

/** The element's text: its text children and those of its descendants, in order. */
export function textOf(el: XmlElement): string {
  if (el.children.length === 1 && typeof el.children[0] === "string") return el.children[0];
  let out = "";
  for (const child of el.children) out += typeof child === "string" ? child : textOf(child);
  return out;
}

/** The element's content as markup: text escaped, child elements serialised. */
export function innerXml(el: XmlElement): string {
  let out = "";
  for (const child of el.children) {
    if (typeof child === "string") out += escapeXml(child);
    else {
      const attrs = Object.entries(child.attrs)
        .filter(([k]) => k !== "xmlns" && !k.startsWith("xmlns:"))
        .map(([k, v]) => ` ${k}="${escapeXml(v).replaceAll('"', "&quot;")}"`).join("");
      out += `<${child.local}${attrs}>${innerXml(child)}</${child.local}>`;
    }
  }
  return out;
}

function escapeXml(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}

/** Child elements of `el`, optionally only those named `local` in one of `namespaces`. */
export function childElements(
  el: XmlElement,
  local?: string,
  namespaces?: ReadonlySet<string>,
): XmlElement[] {
  const out: XmlElement[] = [];
  for (const child of el.children) {
    if (typeof child === "string") continue;
    if (local !== undefined && child.local !== local) continue;
    if (namespaces !== undefined && !namespaces.has(child.ns)) continue;
    out.push(child);
  }
  return out;
}

/** The value of attribute `local` in namespace `ns` ("" for unprefixed attributes). */
export function attrOf(el: XmlElement, local: string, ns = ""): string | undefined {
  if (ns === "") return el.attrs[local];
  for (const [key, value] of Object.entries(el.attrs)) {
    const colon = key.indexOf(":");
    if (colon < 0 || key.slice(colon + 1) !== local) continue;
    const prefix = key.slice(0, colon);
    if ((el.scope[prefix] ?? WELL_KNOWN_PREFIXES[prefix]) === ns) return value;
  }
  return undefined;
}
