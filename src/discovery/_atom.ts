/** Atom 0.3 and 1.0 documents. */
import type { XmlElement } from "./_xml.ts";
import { attrOf, childElements, innerXml, textOf } from "./_xml_read.ts";
import { collapse, decodeBase64, htmlToText, resolveUrl } from "./_text.ts";
import { isoDate } from "./_dates.ts";
import {
  addEnclosure,
  type DateCandidates,
  emptyEntry,
  isItunes,
  nonEmpty,
  NS,
  readExtension,
  readItunes,
} from "./_feed_ext.ts";
import type { Enclosure, FeedBody, FeedEntry, FeedLink } from "./_feed.ts";

function coreOf(root: XmlElement): Set<string> {
  return new Set([root.ns, NS.atom10, NS.atom03]);
}

/**
 * Atom entries read as soon as each is complete (the `onElement` of parseXml), so the tree
 * never holds them: memory stays flat however many entries a feed has.
 */
export class AtomEntries {
  readonly entries: FeedEntry[] = [];
  #core?: Set<string>;

  /** Reads `el` when it is an entry of an Atom document; true leaves it out of the tree. */
  take(el: XmlElement, ancestors: readonly XmlElement[]): boolean {
    if (el.local !== "entry" || ancestors.length !== 1 || ancestors[0].local !== "feed") {
      return false;
    }
    const core = this.#core ??= coreOf(ancestors[0]);
    if (!core.has(el.ns)) return false;
    // An entry the document ends inside may be cut anywhere: it is left out.
    if (!el.truncated) this.entries.push(readEntry(el, core));
    return true;
  }
}

/** Read an Atom document whose entries `entries` took; undefined when the root is not `feed`. */
export function parseAtom(root: XmlElement, entries: AtomEntries): FeedBody | undefined {
  if (root.local !== "feed") return undefined;
  const core = coreOf(root);
  const version = root.ns === NS.atom10 || (root.ns === "" && !attrOf(root, "version"))
    ? "atom10"
    : "atom03";
  const body: FeedBody = { format: "atom", version, entries: entries.entries };
  for (const el of childElements(root)) {
    if (!core.has(el.ns)) {
      readFeedExtension(body, el);
      continue;
    }
    if (el.local === "title") body.title ??= textConstruct(el);
    else if (el.local === "link") readFeedLink(body, el);
    else if (el.local === "logo" || el.local === "icon") {
      body.image ??= resolveUrl(textOf(el), el.base);
    }
  }
  body.language = nonEmpty(attrOf(root, "lang", "http://www.w3.org/XML/1998/namespace"));
  return body;
}

function readFeedLink(body: FeedBody, el: XmlElement): void {
  const link = readAtomLink(el);
  if (link?.rel === "alternate") body.link ??= link.href;
  else if (link?.rel === "next") body.nextUrl ??= link.href;
}

function readFeedExtension(body: FeedBody, el: XmlElement): void {
  if (isItunes(el.ns)) {
    readItunes(body.itunes ??= {}, el);
    return;
  }
  const holder = emptyEntry();
  if (readExtension(holder, el, { published: [], updated: [] }) && holder.extra) {
    body.extra = { ...holder.extra, ...body.extra };
  }
}

/** A link element's href (or text, for old feeds), rel (default "alternate") and type. */
export function readAtomLink(el: XmlElement): (FeedLink & { length?: number }) | undefined {
  const raw = attrOf(el, "href");
  // An empty reference is the document itself (RFC 3986 section 4.4).
  const href = raw !== undefined && raw.trim() === ""
    ? el.base
    : resolveUrl(raw ?? textOf(el), el.base);
  if (!href) return undefined;
  const link: FeedLink & { length?: number } = { href, rel: linkRelation(attrOf(el, "rel")) };
  const type = attrOf(el, "type")?.trim();
  if (type) link.type = type;
  const title = attrOf(el, "title")?.trim();
  if (title) link.title = title;
  const length = Number.parseInt(attrOf(el, "length") ?? "", 10);
  if (Number.isFinite(length) && length >= 0) link.length = length;
  return link;
}

const IANA_RELATIONS = "http://www.iana.org/assignments/relation/";

/**
 * A link relation: registered names in any letter case and their IANA URI form are one
 * relation ("alternate"); other URIs are kept as written. No rel means "alternate".
 */
function linkRelation(rel: string | undefined): string {
  const value = rel?.trim() ?? "";
  if (value === "") return "alternate";
  const lower = value.toLowerCase();
  if (lower.startsWith(IANA_RELATIONS)) return lower.slice(IANA_RELATIONS.length);
  return /^[a-z][a-z0-9+.-]*:/.test(lower) ? value : lower;
}

function readEntry(entryEl: XmlElement, core: Set<string>): FeedEntry {
  const entry = emptyEntry();
  const dates: DateCandidates = { published: [], updated: [] };
  const links: FeedLink[] = [];
  for (const el of childElements(entryEl)) {
    if (core.has(el.ns)) readCoreField({ entry, el, dates, links });
    else readExtension(entry, el, dates);
  }
  if (links.length > 0) entry.links = links;
  entry.link = links.find((l) => l.rel === "alternate")?.href;
  finishDates(entry, dates);
  return entry;
}

interface FieldContext {
  entry: FeedEntry;
  el: XmlElement;
  dates: DateCandidates;
  links: FeedLink[];
}

function readCoreField({ entry, el, dates, links }: FieldContext): void {
  const dateSlots: Record<string, [keyof DateCandidates, number]> = {
    published: ["published", 0],
    issued: ["published", 1],
    created: ["published", 4],
    updated: ["updated", 0],
    modified: ["updated", 1],
  };
  const slot = dateSlots[el.local];
  if (slot) {
    dates[slot[0]][slot[1]] = nonEmpty(textOf(el)) ?? dates[slot[0]][slot[1]];
    // Atom 0.3 requires `modified` but not `issued`: the last resort for a publication date.
    if (el.local === "modified") dates.published[5] = dates.updated[1];
    return;
  }
  switch (el.local) {
    case "id":
      entry.id = resolveUrl(textOf(el), el.base) ?? entry.id;
      break;
    case "title":
      entry.title = textConstruct(el) || entry.title;
      break;
    case "summary":
      entry.summary = nonEmpty(markupOf(el)) ?? entry.summary;
      break;
    case "content":
      entry.content = nonEmpty(markupOf(el)) ?? resolveUrl(attrOf(el, "src"), el.base) ??
        entry.content;
      break;
    case "link":
      readEntryLink(entry, el, links);
      break;
    case "author":
      readAuthor(entry, el);
      break;
    case "category": {
      const term = nonEmpty(attrOf(el, "term") ?? textOf(el));
      if (term) entry.categories.push(term);
    }
  }
}

function readEntryLink(entry: FeedEntry, el: XmlElement, links: FeedLink[]): void {
  const link = readAtomLink(el);
  if (!link) return;
  const { length: _length, ...plain } = link;
  links.push(plain);
  if (link.rel === "enclosure" && attrOf(el, "href")?.trim()) {
    addEnclosure(entry.enclosures, linkEnclosure(link));
  }
}

/** The enclosure an Atom `rel="enclosure"` link describes. */
export function linkEnclosure(link: FeedLink & { length?: number }): Enclosure {
  const enclosure: Enclosure = { url: link.href };
  if (link.type) enclosure.type = link.type;
  if (link.length !== undefined) enclosure.length = link.length;
  return enclosure;
}

function readAuthor(entry: FeedEntry, el: XmlElement): void {
  const name = childElements(el).find((child) => child.local === "name");
  const text = collapse(textOf(name ?? el));
  if (text) entry.authors.push(text);
}

/** Plain text of an Atom text construct (text, html, xhtml, base64 or another media type). */
function textConstruct(el: XmlElement): string {
  const type = (attrOf(el, "type") ?? "text").trim().toLowerCase();
  const mode = attrOf(el, "mode")?.trim().toLowerCase();
  if (mode === "base64" || type.endsWith("octet-stream")) {
    return htmlToText(decodeBase64(textOf(el)) ?? textOf(el));
  }
  if (type === "xhtml" || type.endsWith("+xml") || type.endsWith("/xml")) {
    return collapse(textOf(el));
  }
  if (type === "html" || type === "text/html" || mode === "escaped") return htmlToText(textOf(el));
  return collapse(textOf(el));
}

/** The markup of a content-like construct: escaped HTML as text, inline XHTML serialised. */
function markupOf(el: XmlElement): string {
  const type = (attrOf(el, "type") ?? "").trim().toLowerCase();
  if (type === "xhtml" || type.endsWith("+xml")) {
    const div = childElements(el).find((child) => child.local === "div");
    return innerXml(div ?? el);
  }
  if (attrOf(el, "mode")?.trim().toLowerCase() === "base64") {
    return decodeBase64(textOf(el)) ?? textOf(el);
  }
  return textOf(el);
}

/** Set `published`/`updated` from the first parseable candidate of each, in priority order. */
export function finishDates(entry: FeedEntry, dates: DateCandidates): void {
  // Assigned only when found: a property added and deleted again slows every later use.
  const published = firstDate(dates.published);
  const updated = firstDate(dates.updated);
  if (published !== undefined) entry.published = published;
  else if ("published" in entry) delete entry.published;
  if (updated !== undefined) entry.updated = updated;
  else if ("updated" in entry) delete entry.updated;
}

function firstDate(candidates: (string | undefined)[]): string | undefined {
  for (const raw of candidates) {
    const iso = isoDate(raw);
    if (iso !== undefined) return iso;
  }
  return undefined;
}
