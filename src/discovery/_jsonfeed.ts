/** JSON Feed 1.0 and 1.1 documents. */
import { collapse, resolveUrl } from "./_text.ts";
import { isoDate } from "./_dates.ts";
import { addEnclosure, emptyEntry, nonEmpty } from "./_feed_ext.ts";
import { type FeedBody, type FeedEntry, FeedError } from "./_feed.ts";

type Json = Record<string, unknown>;

/** Read a JSON Feed; throws `FeedError` for invalid JSON or JSON that is not a JSON Feed. */
export function parseJsonFeed(text: string, base: string | undefined): FeedBody {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new FeedError(`not valid JSON: ${(err as Error).message}`);
  }
  if (!isObject(doc)) throw new FeedError("not a JSON Feed: the document is not a JSON object");
  const version = feedVersion(doc.version);
  if (!version) throw new FeedError("not a JSON Feed: no jsonfeed.org version");
  if (!Array.isArray(doc.items)) throw new FeedError('not a JSON Feed: no "items" array');
  const body: FeedBody = {
    format: "json",
    version,
    entries: doc.items.filter(isObject).map((item) => readItem(item, base)),
  };
  body.title = stringOf(doc.title);
  body.link = resolveUrl(stringOf(doc.home_page_url), base);
  body.nextUrl = resolveUrl(stringOf(doc.next_url), base);
  body.image = resolveUrl(stringOf(doc.icon), base);
  body.language = stringOf(doc.language);
  return body;
}

function feedVersion(value: unknown): string | undefined {
  if (typeof value !== "string") return undefined;
  const m = /^(?:https?:\/\/jsonfeed\.org\/version\/)?(1(?:\.\d+)?)\/?$/.exec(value.trim());
  if (!m) return undefined;
  return m[1] === "1" || m[1] === "1.0" ? "json10" : `json${m[1].replace(".", "")}`;
}

function readItem(item: Json, base: string | undefined): FeedEntry {
  const entry = emptyEntry();
  const id = item.id;
  if (typeof id === "string" || typeof id === "number") entry.id = nonEmpty(String(id));
  entry.link = resolveUrl(stringOf(item.url) ?? stringOf(item.external_url), base);
  const title = stringOf(item.title);
  if (title) entry.title = collapse(title);
  entry.summary = stringOf(item.summary);
  entry.content = stringOf(item.content_html) ?? stringOf(item.content_text);
  entry.published = isoDate(stringOf(item.date_published));
  entry.updated = isoDate(stringOf(item.date_modified));
  entry.image = resolveUrl(stringOf(item.image), base);
  const authors = Array.isArray(item.authors) ? item.authors : [item.author];
  for (const author of authors) {
    const name = isObject(author) ? stringOf(author.name) : undefined;
    if (name) entry.authors.push(name);
  }
  if (Array.isArray(item.tags)) entry.categories = item.tags.filter(isString);
  for (const attachment of Array.isArray(item.attachments) ? item.attachments : []) {
    if (!isObject(attachment)) continue;
    const url = resolveUrl(stringOf(attachment.url), base);
    if (!url) continue;
    const size = attachment.size_in_bytes;
    addEnclosure(entry.enclosures, {
      url,
      ...(isString(attachment.mime_type) ? { type: attachment.mime_type } : {}),
      ...(typeof size === "number" && size >= 0 ? { length: size } : {}),
    });
  }
  return entry;
}

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isString(value: unknown): value is string {
  return typeof value === "string";
}

function stringOf(value: unknown): string | undefined {
  return typeof value === "string" ? nonEmpty(value) : undefined;
}
