import assert from "node:assert/strict";
import { DiscoveryError, hashUrl } from "../../src/discovery/base.ts";
import { schema, SitemapDiscovery } from "../../src/discovery/sitemap.ts";
import { reply, serveRoutes, testEnv } from "./_server.ts";

const NS = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"';

function urlset(entries: [string, string?][]): string {
  const urls = entries.map(([loc, lastmod]) =>
    `<url><loc>\n  ${loc}  \n</loc>${
      lastmod ? `<lastmod>${lastmod}</lastmod>` : ""
    }<changefreq>daily</changefreq></url>`
  ).join("");
  return `<?xml version="1.0" encoding="UTF-8"?><urlset ${NS} xmlns:image="http://www.google.com/schemas/sitemap-image/1.1">${urls}</urlset>`;
}

function index(locs: string[]): string {
  return `<?xml version="1.0" encoding="UTF-8"?><sitemapindex ${NS}>${
    locs.map((loc) => `<sitemap><loc>${loc}</loc><lastmod>2024-01-01</lastmod></sitemap>`).join("")
  }</sitemapindex>`;
}

async function gzip(text: string): Promise<Uint8Array<ArrayBuffer>> {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

async function run(options: Record<string, unknown>) {
  await using t = await testEnv();
  const result = await new SitemapDiscovery(schema.parse(options), t.env).discover();
  return { ...result, logs: t.logs.map((l) => `${l.level}: ${l.message}`) };
}

Deno.test("sitemap follows an index to plain and gzip'd urlsets, once each", async () => {
  const posts = await gzip(
    urlset([["https://example.com/b?x=1&amp;y=2", "2024-02-01T10:00:00+01:00"]]),
  );
  await using server = serveRoutes({
    "/sitemap_index.xml": () =>
      reply(index(["/pages.xml", "/posts.xml.gz", "/sitemap_index.xml", "/pages.xml"])),
    "/pages.xml": () =>
      reply(urlset([["https://example.com/a", "2024-01-15"], ["https://example.com/a"]])),
    "/posts.xml.gz": () => reply(posts, { "content-type": "application/x-gzip" }),
  });
  const { items, logs } = await run({ url: server.url("/sitemap_index.xml") });
  assert.deepEqual(items, [
    {
      key: hashUrl("https://example.com/a"),
      data: {
        url: "https://example.com/a",
        lastmod: "2024-01-15",
        changefreq: "daily",
        sitemap: server.url("/pages.xml"),
      },
    },
    {
      key: hashUrl("https://example.com/b?x=1&y=2"),
      data: {
        url: "https://example.com/b?x=1&y=2",
        lastmod: "2024-02-01T10:00:00+01:00",
        changefreq: "daily",
        sitemap: server.url("/posts.xml.gz"),
      },
    },
  ]);
  assert.deepEqual(server.hits.map((h) => h.path), [
    "/sitemap_index.xml",
    "/pages.xml",
    "/posts.xml.gz",
  ]);
  assert.deepEqual(logs, []);
});

Deno.test("sitemap caps index depth and the number of sitemaps read", async () => {
  await using server = serveRoutes({
    "/root.xml": () => reply(index(["/level1.xml", "/leaf0.xml"])),
    "/level1.xml": () => reply(index(["/level2.xml"])),
    "/level2.xml": () => reply(urlset([["https://example.com/deep"]])),
    "/leaf0.xml": () => reply(urlset([["https://example.com/shallow"]])),
  });
  const shallow = await run({ url: server.url("/root.xml"), max_depth: 1 });
  assert.deepEqual(shallow.items.map((i) => i.data.url), ["https://example.com/shallow"]);
  assert.deepEqual(shallow.logs, [
    `warn: Sitemap ${server.url("/level2.xml")} not read: deeper than max_depth 1`,
  ]);
  const capped = await run({ url: server.url("/root.xml"), max_sitemaps: 3 });
  assert.deepEqual(capped.items.map((i) => i.data.url), ["https://example.com/shallow"]);
  assert.deepEqual(capped.logs, ["warn: Sitemap limit of 3 reached: 1 more not read"]);
});

Deno.test("sitemap reads robots.txt, text sitemaps and filters by lastmod with since", async () => {
  await using server = serveRoutes({
    "/robots.txt": () =>
      reply("User-agent: *\nDisallow: /admin\nsitemap: /a.xml\nSitemap: /list.txt\n"),
    "/a.xml": () =>
      reply(
        urlset([["https://example.com/old", "2020-01-01"], [
          "https://example.com/new",
          "2024-06-01",
        ]]),
      ),
    "/list.txt": () => reply("\ufeffhttps://example.com/t1\n\nhttps://example.com/t2\n"),
  });
  const { items } = await run({ url: server.url("/robots.txt"), since: "2023-01-01" });
  assert.deepEqual(items.map((i) => i.data.url), [
    "https://example.com/new",
    "https://example.com/t1",
    "https://example.com/t2",
  ]);
});

Deno.test("sitemap logs a broken child sitemap and keeps the others; a broken root fails", async () => {
  await using server = serveRoutes({
    "/index.xml": () => reply(index(["/missing.xml", "/bad.xml", "/ok.xml"])),
    "/bad.xml": () => reply(`<urlset ${NS}><url><loc>https://example.com/x</loc></urlset>`),
    "/ok.xml": () => reply(urlset([["https://example.com/ok"]])),
    "/corrupt.xml.gz": () => reply(new Uint8Array([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3])),
  });
  const { items, logs } = await run({ url: server.url("/index.xml"), retries: 0 });
  assert.deepEqual(items.map((i) => i.data.url), ["https://example.com/ok"]);
  assert.deepEqual(logs, [
    `warn: HTTP 404 Not Found from ${server.url("/missing.xml")}`,
    `warn: Cannot parse sitemap ${
      server.url("/bad.xml")
    }: not well-formed XML: Expected closing tag "url" (opened in line 1, col 61) instead of closing tag "urlset" at line 1, column 98`,
  ]);
  const error = await run({ url: server.url("/corrupt.xml.gz"), retries: 0 }).then(
    () => undefined,
    (e) => e,
  );
  assert.ok(error instanceof DiscoveryError);
  assert.match(
    error.message,
    /^Cannot decompress gzip body from http:\/\/127\.0\.0\.1:\d+\/corrupt\.xml\.gz/,
  );
});

Deno.test("sitemap costs one 304 per sitemap when nothing changed", async () => {
  await using t = await testEnv();
  await using server = serveRoutes({
    "/sitemap.xml": (req) =>
      req.headers.get("if-none-match") === '"s1"'
        ? reply(null, {}, 304)
        : reply(urlset([["https://example.com/1"], ["https://example.com/2"]]), { etag: '"s1"' }),
  });
  const options = schema.parse({ url: server.url("/sitemap.xml") });
  assert.equal((await new SitemapDiscovery(options, t.env).discover()).items.length, 2);
  assert.deepEqual(await new SitemapDiscovery(options, t.env).discover(), {
    items: [],
    notModified: true,
  });
  assert.equal(server.count("/sitemap.xml"), 2);
});

Deno.test("sitemap reads a feed served as a sitemap and refuses hostile XML", async () => {
  const rss =
    `<rss version="2.0"><channel><item><link>https://example.com/f1</link><pubDate>Thu, 05 Jan 2017 13:34:51 +0100</pubDate></item></channel></rss>`;
  const xxe =
    `<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY x SYSTEM "file:///etc/passwd">]><urlset ${NS}><url><loc>&x;</loc></url></urlset>`;
  await using server = serveRoutes({ "/feed.xml": () => reply(rss), "/xxe.xml": () => reply(xxe) });
  const { items } = await run({ url: server.url("/feed.xml") });
  assert.deepEqual(items.map((i) => [i.data.url, i.data.lastmod]), [[
    "https://example.com/f1",
    "2017-01-05T12:34:51.000Z",
  ]]);
  const error = await run({ url: server.url("/xxe.xml") }).then(() => undefined, (e) => e);
  assert.equal(
    error?.message,
    `Cannot parse sitemap ${
      server.url("/xxe.xml")
    }: not well-formed XML: external and parameter entities are not allowed`,
  );
});

Deno.test("sitemap's schema checks max_depth and max_sitemaps", () => {
  assert.equal(schema.safeParse({ url: "https://x/s.xml", max_depth: -1 }).success, false);
  assert.equal(schema.safeParse({ url: "https://x/s.xml", max_sitemaps: 0 }).success, false);
  assert.equal(
    schema.safeParse({ url: "https://x/s.xml", max_depth: 2, max_sitemaps: 10 }).success,
    true,
  );
});
