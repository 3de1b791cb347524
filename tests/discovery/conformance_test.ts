/**
 * Conformance of the feed and sitemap parsing with other projects' expectations, read in place
 * from ../shared/fixtures/realworld (see its README.md and MANIFEST.md files).
 *
 * One case is one fixture document. A case agrees when every compared field agrees: entry count,
 * id/guid, link, title, published/updated date, enclosure URLs, the detected format (and for
 * sitemaps: the URLs and their lastmod). Policies that differ between the source libraries are
 * chosen once and stated where the comparison is made:
 * - titles are compared as plain text (markup removed, entities decoded, whitespace collapsed);
 * - dates are compared as instants;
 * - enclosure URLs are compared as lists without duplicates;
 * - a document is "bozo" when parsing throws or reports a warning;
 * - a malformed sitemap agrees when it is refused or read with a warning.
 */
import assert from "node:assert/strict";
import { isDeepStrictEqual } from "node:util";
import {
  type Feed,
  type FeedEntry,
  FeedError,
  parseFeed,
  type ParseFeedOptions,
} from "../../src/discovery/_feed.ts";
import { parseSitemap, type SitemapDocument } from "../../src/discovery/_sitemap.ts";
import { readBody } from "../../src/util/body.ts";
import { collapse, htmlToText } from "../../src/discovery/_text.ts";
import { parseDate } from "../../src/discovery/_dates.ts";
import { CORPUS, needsCorpus } from "../_corpus.ts";

/** Cases known to disagree, each with the reason. The test fails if this set changes. */
const KNOWN_DISAGREEMENTS: Record<string, string> = {
  "feedparser/tests/wellformed/rdf/doctype_contains_entity_decl.xml":
    "the DOCTYPE declares an external parameter entity: we refuse such documents rather than expand or fetch anything",
  "feedparser/tests/wellformed/rss/item_enclosure_url.xml":
    "feedparser lists an RSS item's links in document order (enclosure first); our RSS entries keep the link and the enclosures apart",
  "gofeed/testdata/translator/rss/feed_item_description_-_rdf_item_description.xml":
    "RSS 1.0 rdf:about becomes the entry id (feedparser's reading); gofeed leaves the guid empty",
  "gofeed/testdata/translator/rss/feed_item_link_-_rdf_item_link.xml":
    "RSS 1.0 rdf:about becomes the entry id (feedparser's reading); gofeed leaves the guid empty",
  "gofeed/testdata/translator/rss/feed_item_title_-_rdf_item_title.xml":
    "RSS 1.0 rdf:about becomes the entry id (feedparser's reading); gofeed leaves the guid empty",
  "gofeed/testdata/parser/rss/rss_channel_item_guid_naked_markup.xml":
    "a guid holding markup (`<p>abc123</p>`) is read as its text, `abc123`; gofeed keeps the markup",
  "rss-parser/input/uolNoticias.rss":
    "the undeclared ISO-8859-1 bytes are not UTF-8, so we read them as windows-1252; rss-parser's golden holds U+FFFD replacement characters",
  "rsparser/Resources/livemint.xml":
    "non-URL guids (`1559104147038`) are kept as written (RSParser's rule); feedparser resolves them against the document URL",
  "rsparser/Resources/kc0011.rss":
    "we read `2020/1/10 14:33:00` as 2020-01-10T14:33Z; feedparser's observed reading is 2020-11-01, a misparse",
};

interface Case {
  name: string;
  check(): Promise<string[]>;
}

interface Outcome {
  feed?: Feed;
  error?: Error;
}

type Json = Record<string, unknown>;

async function readBytes(path: string): Promise<Uint8Array> {
  return await Deno.readFile(new URL(path, CORPUS));
}

async function readJson<T = Json>(path: string, encoding = "utf-8"): Promise<T> {
  return JSON.parse(new TextDecoder(encoding).decode(await readBytes(path))) as T;
}

function runFeed(bytes: Uint8Array, options: ParseFeedOptions = {}): Outcome {
  try {
    return { feed: parseFeed(bytes, options) };
  } catch (err) {
    if (err instanceof FeedError) return { error: err };
    throw err;
  }
}

function plainTitle(value: unknown): string | undefined {
  if (typeof value !== "string") return undefined;
  return htmlToText(value) || undefined;
}

/** Titles agree when ours equals the expected value read as plain text or read as HTML. */
function compareTitle(problems: string[], label: string, ours: unknown, expected: unknown): void {
  if (
    typeof expected === "string" && (ours === collapse(expected) || ours === plainTitle(expected))
  ) return;
  compare(problems, label, ours, plainTitle(expected));
}

function instant(value: unknown): number | undefined {
  return typeof value === "string" ? parseDate(value) : undefined;
}

function distinct(urls: (string | undefined)[]): string[] {
  return [...new Set(urls.filter((u): u is string => typeof u === "string"))];
}

/** Record a problem when `ours` and `expected` differ (deep equality on JSON values). */
function compare(problems: string[], label: string, ours: unknown, expected: unknown): void {
  if (!isDeepStrictEqual(ours, expected)) {
    problems.push(`${label}: ours ${JSON.stringify(ours)}, expected ${JSON.stringify(expected)}`);
  }
}

function compareInstant(problems: string[], label: string, ours: unknown, expected: unknown): void {
  compare(problems, label, instant(ours), instant(expected));
}

// ---------------------------------------------------------------------------------------------
// feedparser: `checks` translated from each file's Expect expression (feedparser's key names)

interface FeedparserCheck {
  path?: string;
  op: string;
  value?: unknown;
  value_utc_iso?: string;
}

interface FeedparserRecord {
  file: string;
  checks: FeedparserCheck[] | null;
  expect: string;
  served_over_http?: { url: string; content_type: string; headers: Record<string, string> };
}

const FEEDPARSER_VERSIONS: Record<string, string> = { rss091n: "rss091", rss091u: "rss091" };

async function feedparserCases(): Promise<Case[]> {
  const index = await readJson<{ files: FeedparserRecord[] }>("feedparser/expectations.json");
  return index.files.map((record) => ({
    name: `feedparser/${record.file}`,
    async check() {
      const http = record.served_over_http;
      const options: ParseFeedOptions = http
        ? {
          url: http.url,
          contentType: http.content_type,
          contentLocation: http.headers["Content-Location"],
        }
        : {};
      const outcome = runFeed(await readBytes(`feedparser/${record.file}`), options);
      const checks = record.checks ?? escapedAposChecks(record);
      const problems: string[] = [];
      for (const check of checks) evaluateFeedparserCheck(problems, outcome, check);
      return problems;
    },
  }));
}

/** The one Expect that is a disjunction: the title is "it's correct", escaped or not. */
function escapedAposChecks(record: FeedparserRecord): FeedparserCheck[] {
  assert.equal(record.file, "tests/wellformed/xml/escaped_apos.xml");
  return [{ path: "bozo", op: "eq", value: false }, {
    path: "feed.title",
    op: "eq",
    value: "it's correct",
  }];
}

function evaluateFeedparserCheck(
  problems: string[],
  outcome: Outcome,
  check: FeedparserCheck,
): void {
  if (check.op === "parses_without_crash") return; // a FeedError is a clean refusal, not a crash
  const path = check.path!;
  if (path === "bozo") {
    const bozo = outcome.error !== undefined || (outcome.feed?.warnings.length ?? 0) > 0;
    compare(problems, "bozo", bozo, check.value);
    return;
  }
  const mapped = feedparserValue(outcome.feed, path);
  if (!mapped) return; // a feedparser-only key: not a field the component promises
  if (outcome.error) {
    problems.push(`${path}: parse failed: ${outcome.error.message}`);
    return;
  }
  applyOp(problems, path, mapped, check);
}

interface Mapped {
  value: unknown;
  kind: "plain" | "title" | "instant" | "version";
}

function applyOp(problems: string[], path: string, mapped: Mapped, check: FeedparserCheck): void {
  const { value, kind } = mapped;
  if (check.op === "absent" || check.op === "falsy") {
    return compare(problems, path, value || undefined, undefined);
  }
  if (check.op === "truthy") return compare(problems, path, Boolean(value), true);
  if (check.op === "len_eq") {
    return compare(problems, path, (value as unknown[] | undefined)?.length, check.value);
  }
  if (kind === "title" && check.op === "eq") {
    return compareTitle(problems, path, value, check.value);
  }
  const expected = kind === "instant"
    ? instant(check.value_utc_iso ?? check.value)
    : kind === "version"
    ? FEEDPARSER_VERSIONS[String(check.value)] ?? check.value
    : check.value;
  const ours = kind === "instant" ? instant(value) : value;
  if (check.op === "eq") compare(problems, path, ours, expected);
  else if (check.op === "ne" && JSON.stringify(ours) === JSON.stringify(expected)) {
    problems.push(`${path}: ours equals ${JSON.stringify(expected)}`);
  }
}

function feedparserValue(feed: Feed | undefined, path: string): Mapped | undefined {
  if (path === "version") return { value: feed?.version, kind: "version" };
  if (path === "encoding") return { value: feed?.encoding, kind: "plain" };
  const feedField = /^feed\.(title|title_detail\.value|link)$/.exec(path);
  if (feedField) {
    return feedField[1] === "link"
      ? { value: feed?.link, kind: "plain" }
      : { value: feed?.title, kind: "title" };
  }
  const m = /^entries\[(\d+)\]\.(.+)$/.exec(path);
  if (!m) return undefined;
  return entryValue(feed?.entries[Number(m[1])], m[2]);
}

function entryValue(entry: FeedEntry | undefined, key: string): Mapped | undefined {
  const simple: Record<string, () => Mapped> = {
    link: () => ({ value: entry?.link, kind: "plain" }),
    id: () => ({ value: entry?.id, kind: "plain" }),
    guid: () => ({ value: entry?.id, kind: "plain" }),
    title: () => ({ value: entry?.title, kind: "title" }),
    "title_detail.value": () => ({ value: entry?.title, kind: "title" }),
    published_parsed: () => ({ value: entry?.published, kind: "instant" }),
    published: () => ({ value: entry?.published, kind: "instant" }),
    updated_parsed: () => ({ value: entry?.updated, kind: "instant" }),
    updated: () => ({ value: entry?.updated, kind: "instant" }),
    links: () => ({ value: linksOf(entry), kind: "plain" }),
  };
  if (simple[key]) return simple[key]();
  const m = /^(enclosures|links)\[(\d+)\](?:\.(\w+))?$/.exec(key);
  if (!m) return undefined;
  const list = m[1] === "links" ? linksOf(entry) : enclosuresAsFeedparser(entry);
  const item = list[Number(m[2])];
  if (m[3] === undefined) return { value: item, kind: "plain" };
  const field = m[3] === "url" ? "href" : m[3];
  return { value: (item as Record<string, unknown> | undefined)?.[field], kind: "plain" };
}

/** An entry's links as feedparser lists them: Atom links as read; for RSS the link and enclosures. */
function linksOf(entry: FeedEntry | undefined): Json[] {
  if (entry?.links) return entry.links.map((l) => ({ ...l }));
  const links: Json[] = entry?.link
    ? [{ rel: "alternate", type: "text/html", href: entry.link }]
    : [];
  for (const e of entry?.enclosures ?? []) links.push({ rel: "enclosure", href: e.url });
  return links;
}

function enclosuresAsFeedparser(entry: FeedEntry | undefined): Json[] {
  return (entry?.enclosures ?? []).map((e) => ({
    href: e.url,
    ...(e.length !== undefined ? { length: String(e.length) } : {}),
    ...(e.type !== undefined ? { type: e.type } : {}),
  }));
}

// ---------------------------------------------------------------------------------------------
// gofeed: translator goldens (universal model, complete: an absent key means empty) and the
// format-specific goldens (their own structs: only the keys present are compared)

async function listFiles(dir: string, suffix: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(new URL(dir, CORPUS))) {
    if (entry.isFile && entry.name.endsWith(suffix)) names.push(`${dir}${entry.name}`);
  }
  return names.sort();
}

async function gofeedTranslatorCases(): Promise<Case[]> {
  const files = [
    ...await listFiles("gofeed/testdata/translator/rss/", ".xml"),
    ...await listFiles("gofeed/testdata/translator/atom/", ".xml"),
  ];
  return files.map((xml) => ({
    name: xml,
    async check() {
      const expected = await readJson(xml.replace(/\.xml$/, ".json"));
      const outcome = runFeed(await readBytes(xml));
      if (!outcome.feed) return [`parse failed: ${outcome.error?.message}`];
      const problems: string[] = [];
      const feed = outcome.feed;
      compare(problems, "format", feed.format, expected.feedType);
      compareTitle(problems, "feed title", feed.title, expected.title);
      compare(problems, "feed link", feed.link, expected.link);
      compareUniversalItems(problems, feed.entries, (expected.items ?? []) as Json[]);
      return problems;
    },
  }));
}

function compareUniversalItems(problems: string[], entries: FeedEntry[], items: Json[]): void {
  compare(problems, "entry count", entries.length, items.length);
  items.forEach((item, i) => {
    const entry = entries[i];
    compare(problems, `[${i}] id`, entry?.id, item.guid);
    compare(problems, `[${i}] link`, entry?.link, item.link);
    compareTitle(problems, `[${i}] title`, entry?.title, item.title);
    compareInstant(problems, `[${i}] published`, entry?.published, item.publishedParsed);
    compareInstant(problems, `[${i}] updated`, entry?.updated, item.updatedParsed);
    const urls = ((item.enclosures ?? []) as Json[]).map((e) => e.url as string);
    compare(
      problems,
      `[${i}] enclosures`,
      distinct(entry?.enclosures.map((e) => e.url) ?? []),
      distinct(urls),
    );
  });
}

async function gofeedParserCases(): Promise<Case[]> {
  const files = [
    ...await listFiles("gofeed/testdata/parser/rss/", ".xml"),
    ...await listFiles("gofeed/testdata/parser/atom/", ".xml"),
  ];
  return files.map((xml) => ({
    name: xml,
    async check() {
      const expected = await readJson(xml.replace(/\.xml$/, ".json"));
      const outcome = runFeed(await readBytes(xml));
      if (!outcome.feed) return [`parse failed: ${outcome.error?.message}`];
      const problems: string[] = [];
      const isRss = xml.includes("/rss/");
      const items = ((isRss ? expected.items : expected.entries) ?? []) as Json[];
      compare(problems, "format", outcome.feed.format, isRss ? "rss" : "atom");
      compare(problems, "entry count", outcome.feed.entries.length, items.length);
      items.forEach((item, i) => {
        const ours = outcome.feed!.entries[i];
        if (isRss) compareGofeedRssItem(problems, `[${i}]`, ours, item);
        else compareGofeedAtomEntry(problems, `[${i}]`, ours, item);
      });
      return problems;
    },
  }));
}

function compareGofeedRssItem(
  problems: string[],
  label: string,
  entry: FeedEntry | undefined,
  item: Json,
): void {
  const guid = item.guid as Json | undefined;
  if (guid?.value !== undefined) compare(problems, `${label} id`, entry?.id, guid.value);
  if (item.link !== undefined) compare(problems, `${label} link`, entry?.link, item.link);
  if (item.title !== undefined) compareTitle(problems, `${label} title`, entry?.title, item.title);
  if (item.pubDateParsed !== undefined) {
    compareInstant(problems, `${label} published`, entry?.published, item.pubDateParsed);
  }
  if (item.enclosures !== undefined) {
    const urls = (item.enclosures as Json[]).map((e) => e.url as string);
    compare(problems, `${label} enclosures`, entry?.enclosures.map((e) => e.url), distinct(urls));
  }
}

function compareGofeedAtomEntry(
  problems: string[],
  label: string,
  entry: FeedEntry | undefined,
  item: Json,
): void {
  if (item.id !== undefined) compare(problems, `${label} id`, entry?.id, item.id);
  if (item.title !== undefined) compareTitle(problems, `${label} title`, entry?.title, item.title);
  const links = (item.links ?? []) as Json[];
  const alternate = links.find((l) => (l.rel ?? "alternate") === "alternate");
  if (alternate) compare(problems, `${label} link`, entry?.link, alternate.href);
  const enclosures = links.filter((l) => l.rel === "enclosure").map((l) => l.href as string);
  if (enclosures.length) {
    compare(
      problems,
      `${label} enclosures`,
      entry?.enclosures.map((e) => e.url),
      enclosures,
    );
  }
  if (item.publishedParsed !== undefined) {
    compareInstant(problems, `${label} published`, entry?.published, item.publishedParsed);
  }
  if (item.updatedParsed !== undefined) {
    compareInstant(problems, `${label} updated`, entry?.updated, item.updatedParsed);
  }
}

/** gofeed's parser_test.go / detector_test.go: format detection and feed title. */
const GOFEED_UNIVERSAL: Record<string, { format?: string; title?: string }> = {
  "atom03_feed.xml": { format: "atom", title: "Feed Title" },
  "atom10_feed.xml": { format: "atom", title: "Feed Title" },
  "rss_feed.xml": { format: "rss", title: "Feed Title" },
  "rss_feed_bom.xml": { format: "rss", title: "Feed Title" },
  "rss_feed_leading_spaces.xml": { format: "rss", title: "Feed Title" },
  "rdf_feed.xml": { format: "rss", title: "Feed Title" },
  "sample.json": { format: "json", title: "title" },
  "json10_feed.json": { format: "json", title: "title" },
  "json11_feed.json": { format: "json", title: "title" },
  "unknown_feed.xml": {},
  "empty_feed.xml": {},
  "invalid.json": {},
};

function gofeedUniversalCases(): Case[] {
  return Object.entries(GOFEED_UNIVERSAL).map(([file, expected]) => ({
    name: `gofeed/testdata/parser/universal/${file}`,
    async check() {
      const outcome = runFeed(await readBytes(`gofeed/testdata/parser/universal/${file}`));
      const problems: string[] = [];
      compare(problems, "format", outcome.feed?.format, expected.format);
      compare(problems, "feed title", outcome.feed?.title, expected.title);
      return problems;
    },
  }));
}

// ---------------------------------------------------------------------------------------------
// rss-parser: golden results of parseString(); absent fields are omitted there, so only the
// fields it gives are compared (it neither resolves links nor turns a guid into a link)

async function rssParserCases(): Promise<Case[]> {
  const goldens = await listFiles("rss-parser/output/", ".json");
  const inputs = await listFiles("rss-parser/input/", "");
  const cases: Case[] = goldens.map((golden) => ({
    name: inputs.find((f) => baseName(f) === baseName(golden))!,
    async check() {
      const name = baseName(golden);
      const input = inputs.find((f) => baseName(f) === name)!;
      const latin1 = name === "encoding";
      const expected = (await readJson<{ feed: Json }>(golden, latin1 ? "latin1" : "utf-8")).feed;
      const outcome = runFeed(
        await readBytes(input),
        latin1 ? { contentType: "text/xml; charset=latin1" } : {},
      );
      if (!outcome.feed) return [`parse failed: ${outcome.error?.message}`];
      const problems: string[] = [];
      const items = (expected.items ?? []) as Json[];
      compare(problems, "entry count", outcome.feed.entries.length, items.length);
      items.forEach((item, i) =>
        compareRssParserItem(problems, `[${i}]`, outcome.feed!.entries[i], item)
      );
      return problems;
    },
  }));
  cases.push({
    name: "rss-parser/input/unrecognized.rss",
    async check() {
      const outcome = runFeed(await readBytes("rss-parser/input/unrecognized.rss"));
      return outcome.error ? [] : ["parsed an HTML page as a feed"];
    },
  }, {
    name: "rss-parser/input/itunes-missing-image.rss",
    async check() {
      const outcome = runFeed(await readBytes("rss-parser/input/itunes-missing-image.rss"));
      if (!outcome.feed) return [`parse failed: ${outcome.error?.message}`];
      return outcome.feed.itunes?.image === undefined ? [] : ["feed itunes image should be absent"];
    },
  });
  return cases;
}

function baseName(path: string): string {
  return path.split("/").pop()!.replace(/\.[^.]+$/, "");
}

function compareRssParserItem(
  problems: string[],
  label: string,
  entry: FeedEntry | undefined,
  item: Json,
): void {
  // rss-parser keeps the whitespace around ids and links; we trim it.
  const id = item.guid ?? item.id ?? item["rdf:about"];
  if (id !== undefined) compare(problems, `${label} id`, entry?.id, String(id).trim());
  if (item.link !== undefined) {
    compare(problems, `${label} link`, entry?.link, String(item.link).trim());
  }
  if (item.title !== undefined) compareTitle(problems, `${label} title`, entry?.title, item.title);
  const date = item.isoDate ?? (item.id !== undefined ? item.pubDate : undefined);
  if (date !== undefined) {
    compareInstant(problems, `${label} date`, entry?.published ?? entry?.updated, date);
  }
  const enclosure = item.enclosure as Json | undefined;
  if (enclosure) compare(problems, `${label} enclosure`, entry?.enclosures[0]?.url, enclosure.url);
}

// ---------------------------------------------------------------------------------------------
// RSParser (NetNewsWire): format detection from assertions.json, entries from feedparser's
// observed reading of the same bytes (observed-feedparser.json)

interface RsparserAssertion {
  file: string;
  base_url: string;
  feed_type: string | null;
}

async function rsparserCases(): Promise<Case[]> {
  const assertions = await readJson<{ files: RsparserAssertion[] }>("rsparser/assertions.json");
  const observed = await readJson<{ files: Record<string, Json> }>(
    "rsparser/observed-feedparser.json",
  );
  return assertions.files.map((assertion) => ({
    name: `rsparser/${assertion.file}`,
    async check() {
      const outcome = runFeed(await readBytes(`rsparser/${assertion.file}`), {
        url: assertion.base_url,
      });
      if (assertion.feed_type === "notAFeed") {
        return outcome.error ? [] : ["parsed a web page as a feed"];
      }
      if (!outcome.feed) return [`parse failed: ${outcome.error?.message}`];
      const problems: string[] = [];
      if (assertion.feed_type) {
        compare(problems, "format", outcome.feed.format, assertion.feed_type);
      }
      const seen = observed.files[assertion.file];
      if (seen) compareObserved(problems, outcome.feed.entries, seen.entries as Json[]);
      return problems;
    },
  }));
}

function compareObserved(problems: string[], entries: FeedEntry[], expected: Json[]): void {
  compare(problems, "entry count", entries.length, expected.length);
  expected.forEach((item, i) => {
    const entry = entries[i];
    compare(problems, `[${i}] id`, entry?.id, item.id);
    compare(problems, `[${i}] link`, entry?.link, item.link);
    compareTitle(problems, `[${i}] title`, entry?.title, item.title);
    // feedparser files dc:date under "updated" only: compare the entry's date as a whole.
    const date = entry?.published ?? entry?.updated;
    compareInstant(problems, `[${i}] date`, date, item.published_utc ?? item.updated_utc);
    const urls = ((item.enclosures ?? []) as Json[]).map((e) => e.href as string);
    compare(
      problems,
      `[${i}] enclosures`,
      entry?.enclosures.map((e) => e.url) ?? [],
      distinct(urls),
    );
  });
}

// ---------------------------------------------------------------------------------------------
// JSON Feed: expected.json (kinds and per-item members copied from each document)

async function jsonFeedCases(): Promise<Case[]> {
  const index = await readJson<{ files: Record<string, Json> }>("jsonfeed/expected.json");
  return Object.entries(index.files).map(([file, expected]) => ({
    name: `jsonfeed/${file}`,
    async check() {
      const outcome = runFeed(await readBytes(`jsonfeed/${file}`));
      const isFeed = String(expected.kind).startsWith("jsonfeed") &&
        expected.item_count !== undefined;
      if (!isFeed) return outcome.error ? [] : [`accepted a document of kind ${expected.kind}`];
      if (!outcome.feed) return [`parse failed: ${outcome.error?.message}`];
      const problems: string[] = [];
      const items = (expected.items ?? []) as Json[];
      compare(problems, "entry count", outcome.feed.entries.length, expected.item_count);
      items.forEach((item, i) => {
        const entry = outcome.feed!.entries[i];
        compare(
          problems,
          `[${i}] id`,
          entry?.id,
          item.id === undefined ? undefined : String(item.id),
        );
        compare(problems, `[${i}] link`, entry?.link, item.url ?? item.external_url);
        compare(problems, `[${i}] title`, entry?.title, item.title);
        compareInstant(problems, `[${i}] published`, entry?.published, item.date_published);
        const urls = ((item.attachments ?? []) as Json[]).map((a) => a.url as string);
        compare(problems, `[${i}] enclosures`, entry?.enclosures.map((e) => e.url), distinct(urls));
      });
      return problems;
    },
  }));
}

// ---------------------------------------------------------------------------------------------
// Sitemaps: expected.json (loc + lastmod per entry, or the error kinds)

async function runSitemap(bytes: Uint8Array): Promise<{ doc?: SitemapDocument; error?: Error }> {
  try {
    const body = await readBody(new Blob([bytes as Uint8Array<ArrayBuffer>]).stream(), {
      maxBytes: 64 << 20,
    });
    return { doc: parseSitemap(body) };
  } catch (err) {
    if (err instanceof Error && ["SitemapError", "CorruptGzip"].includes(err.name)) {
      return { error: err };
    }
    throw err;
  }
}

async function sitemapCases(): Promise<Case[]> {
  const index = await readJson<{ files: Record<string, Json> }>("sitemaps/expected.json");
  return Object.entries(index.files).map(([file, expected]) => ({
    name: `sitemaps/${file}`,
    async check() {
      const { doc, error } = await runSitemap(await readBytes(`sitemaps/${file}`));
      const kind = String(expected.kind);
      // A malformed sitemap agrees when it is refused or read with a warning (like bozo).
      if (kind === "malformed" && doc?.warnings.length) return [];
      if (["malformed", "empty", "error"].includes(kind)) {
        return error ? [] : [`accepted a ${kind} document`];
      }
      if (!doc) return [`parse failed: ${error?.message}`];
      const problems: string[] = [];
      if (kind === "robots.txt") {
        compare(problems, "sitemaps", doc.entries.map((e) => e.loc), expected.distinct_sitemaps);
        return problems;
      }
      const entries = (expected.entries ?? []) as Json[];
      // A feed entry without a link is located by its guid (crawler-commons' reading).
      compare(problems, "locs", doc.entries.map((e) => e.loc), entries.map((e) => e.loc ?? e.guid));
      const isFeed = kind.endsWith("feed-as-sitemap");
      compare(
        problems,
        "lastmods",
        doc.entries.map((e) => (isFeed ? instant(e.lastmod) : e.lastmod)),
        entries.map((e) => (isFeed ? instant(e.lastmod) : e.lastmod)),
      );
      return problems;
    },
  }));
}

// ---------------------------------------------------------------------------------------------

async function allCases(): Promise<Case[]> {
  return [
    ...await feedparserCases(),
    ...await gofeedTranslatorCases(),
    ...await gofeedParserCases(),
    ...gofeedUniversalCases(),
    ...await rssParserCases(),
    ...await rsparserCases(),
    ...await jsonFeedCases(),
    ...await sitemapCases(),
  ];
}

Deno.test(
  "feed and sitemap parsing agree with the real-world fixtures' expectations",
  needsCorpus("the real-world conformance table"),
  async () => {
    const cases = await allCases();
    const disagreements = new Map<string, string[]>();
    for (const c of cases) {
      const problems = await c.check();
      if (problems.length) disagreements.set(c.name, problems);
    }
    const ratio = (cases.length - disagreements.size) / cases.length;
    const report = [...disagreements].map(([name, problems]) =>
      `${name}\n    ${problems.slice(0, 4).join("\n    ")}`
    );
    if (Deno.env.get("CONFORMANCE_REPORT")) {
      console.log(
        `${cases.length - disagreements.size}/${cases.length} agree (${(ratio * 100).toFixed(1)}%)`,
      );
      console.log(report.join("\n"));
    }
    assert.ok(ratio >= 0.95, `agreement ${ratio.toFixed(3)} is below 0.95:\n${report.join("\n")}`);
    const unexpected = report.filter((line) => !(line.split("\n")[0] in KNOWN_DISAGREEMENTS));
    assert.deepEqual(unexpected, [], "new disagreements");
    assert.deepEqual(
      [...disagreements.keys()].sort(),
      Object.keys(KNOWN_DISAGREEMENTS).sort(),
      "fixed disagreements: remove them from the list",
    );
  },
);
