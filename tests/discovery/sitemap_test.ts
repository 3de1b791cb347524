import assert from "node:assert/strict";
import { DiscoveryError, hashUrl } from "../../src/discovery/base.ts";
import { schema, SitemapDiscovery } from "../../src/discovery/sitemap.ts";
import { discoverAndRecord, readResult, reply, serveRoutes, testEnv } from "./_server.ts";

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
  const logs = t.logs.map((l) => `${l.level}: ${l.message}`);
  assert.deepEqual(logs, result.warnings.map((w) => `warn: ${w}`), "every warning is logged");
  return { ...result, items: [...result.items], logs };
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
    "/bad.xml": () => reply(`<urlset ${NS}>\n<url><loc>https://example.com/x</lo`),
    "/ok.xml": () => reply(urlset([["https://example.com/ok"]])),
    "/corrupt.xml.gz": () => reply(new Uint8Array([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3])),
  });
  const { items, logs, failed } = await run({ url: server.url("/index.xml"), retries: 0 });
  assert.deepEqual(items.map((i) => i.data.url), ["https://example.com/ok"]);
  const badXml = `Cannot parse sitemap ${
    server.url("/bad.xml")
  }: not well-formed XML: the document ends inside <loc> at line 2, column 36; no entry could be read`;
  assert.deepEqual(logs, [
    `warn: HTTP 404 Not Found from ${server.url("/missing.xml")}`,
    `warn: ${badXml}`,
  ]);
  assert.deepEqual(failed, [
    {
      url: server.url("/missing.xml"),
      status: 404,
      error: `HTTP 404 Not Found from ${server.url("/missing.xml")}`,
    },
    { url: server.url("/bad.xml"), status: undefined, error: badXml },
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
  assert.equal(
    (await discoverAndRecord(new SitemapDiscovery(options, t.env), t.db)).items.length,
    2,
  );
  const result = await new SitemapDiscovery(options, t.env).discover();
  assert.deepEqual(readResult(result), {
    items: [],
    notModified: true,
    validators: [server.url("/sitemap.xml")],
    warnings: [],
    refetch: [],
    failed: [],
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
    }: not well-formed XML: external and parameter entities are not allowed at line 1, column 40`,
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

Deno.test("sitemap keeps only http(s) locations, warns about the others and never follows them", async () => {
  await using server = serveRoutes({
    "/index.xml": () => reply(index(["file:///etc/passwd", "/pages.xml", "javascript:alert(1)"])),
    "/pages.xml": () =>
      reply(
        urlset([
          ["javascript:alert(1)"],
          ["mailto:me@example.com"],
          ["ftp://example.com/file"],
          ["https://example.com/ok"],
          ["/relative"],
        ]),
      ),
  });
  const { items, warnings } = await run({ url: server.url("/index.xml") });
  assert.deepEqual(items.map((i) => i.data.url), [
    "https://example.com/ok",
    server.url("/relative"),
  ]);
  assert.deepEqual(warnings, [
    `Sitemap ${
      server.url("/index.xml")
    }: 2 locations are not http(s) and left out (first: "file:///etc/passwd")`,
    `Sitemap ${
      server.url("/pages.xml")
    }: 3 locations are not http(s) and left out (first: "javascript:alert(1)")`,
  ]);
  assert.deepEqual(server.hits.map((h) => h.path), ["/index.xml", "/pages.xml"]);
});

Deno.test("robots.txt: a # starts a comment anywhere on a line", async () => {
  await using server = serveRoutes({
    "/robots.txt": () =>
      reply(
        "# Sitemap: /commented.xml\nUser-agent: * # everyone\nSitemap: /a.xml#comment\nSitemap: /b.xml # the blog\n",
      ),
    "/a.xml": () => reply(urlset([["https://example.com/a"]])),
    "/b.xml": () => reply(urlset([["https://example.com/b"]])),
  });
  const { items } = await run({ url: server.url("/robots.txt") });
  assert.deepEqual(items.map((i) => i.data.url), [
    "https://example.com/a",
    "https://example.com/b",
  ]);
  assert.deepEqual(server.hits.map((h) => h.path), ["/robots.txt", "/a.xml", "/b.xml"]);
});

Deno.test("sitemap reads gzip with several members, as concatenation makes", async () => {
  const first = await gzip(
    `<?xml version="1.0"?><urlset ${NS}><url><loc>https://example.com/1</loc></url>`,
  );
  const second = await gzip(`<url><loc>https://example.com/2</loc></url></urlset>`);
  const both = new Uint8Array([...first, ...second]);
  await using server = serveRoutes({
    "/sitemap.xml.gz": () => reply(both, { "content-type": "application/gzip" }),
  });
  for (const path of ["/sitemap.xml.gz"]) {
    const { items, warnings } = await run({ url: server.url(path) });
    assert.deepEqual(items.map((i) => i.data.url), [
      "https://example.com/1",
      "https://example.com/2",
    ], path);
    assert.deepEqual(warnings, [], path);
  }
});

Deno.test("sitemap reads a malformed urlset, keeping every complete entry, with warnings", async () => {
  const body = `<?xml version="1.0"?><urlset ${NS}>
<url><loc>https://example.com/a?x=1&y=2</loc><changefreq>always<</changefreq></url>
<url><loc>https://example.com/b</loc></urlset>
<url><loc>https://example.com/c</loc>`;
  await using server = serveRoutes({ "/sitemap.xml": () => reply(body) });
  const url = server.url("/sitemap.xml");
  const { items, warnings } = await run({ url });
  assert.deepEqual(items.map((i) => [i.data.url, i.data.changefreq]), [
    ["https://example.com/a?x=1&y=2", "always<"],
    ["https://example.com/b", undefined],
  ]);
  assert.deepEqual(warnings, [
    `Sitemap ${url}: a bare "&" (read as text) at line 2, column 36`,
    `Sitemap ${url}: a "<" in text (read as text) at line 2, column 64`,
    `Sitemap ${url}: an unclosed <url> (closed by </urlset>) at line 3, column 38`,
    `Sitemap ${url}: an element <url> after the root element (ignored) at line 4, column 1`,
    `Sitemap ${url}: the document ends inside <url> at line 4, column 38`,
  ]);
});

Deno.test("a sitemap index of 1,000,000 sitemaps is read without exhausting the stack", async () => {
  const locs: string[] = [];
  for (let i = 0; i < 1_000_000; i++) locs.push(`<sitemap><loc>/s/${i}.xml</loc></sitemap>`);
  const body = new TextEncoder().encode(
    `<?xml version="1.0"?><sitemapindex ${NS}>${locs.join("")}</sitemapindex>`,
  );
  await using server = serveRoutes({
    "/index.xml": () => reply(body),
    "/s/0.xml": () => reply(urlset([["https://example.com/from-0"]])),
    "/s/1.xml": () => reply(urlset([["https://example.com/from-1"]])),
  });
  const { items, warnings } = await run({ url: server.url("/index.xml"), max_sitemaps: 3 });
  assert.deepEqual(items.map((i) => i.data.url), [
    "https://example.com/from-0",
    "https://example.com/from-1",
  ]);
  assert.deepEqual(warnings, ["Sitemap limit of 3 reached: 999998 more not read"]);
});

Deno.test("a urlset of 300,000 URLs is read without exhausting the stack", async () => {
  const urls: string[] = [];
  for (let i = 0; i < 300_000; i++) urls.push(`<url><loc>https://example.com/${i}</loc></url>`);
  const body = `<urlset ${NS}>${urls.join("")}</urlset>`;
  await using server = serveRoutes({ "/sitemap.xml": () => reply(body) });
  const { items } = await run({ url: server.url("/sitemap.xml") });
  assert.equal(items.length, 300_000);
  assert.equal(items.at(-1)?.data.url, "https://example.com/299999");
});

Deno.test("a failing child sitemap is in `failed`, and its Retry-After in `refetch`", async () => {
  const now = Date.UTC(2024, 4, 6, 10, 30);
  await using t = await testEnv({ now: () => now });
  await using server = serveRoutes({
    "/index.xml": () =>
      reply(index(["/down.xml", "/ok.xml"]), { expires: "Thu, 01 Jan 1970 00:00:00 GMT" }),
    "/down.xml": () => reply("down", { "retry-after": "600" }, 503),
    "/ok.xml": () => reply(urlset([["https://example.com/ok"]])),
  });
  const options = schema.parse({ url: server.url("/index.xml"), retries: 0 });
  const result = await new SitemapDiscovery(options, t.env).discover();
  assert.deepEqual([...result.items].map((i) => i.data.url), ["https://example.com/ok"]);
  const down = server.url("/down.xml");
  assert.deepEqual(result.failed, [
    { url: down, status: 503, error: `HTTP 503 Service Unavailable from ${down}` },
  ]);
  assert.deepEqual(result.refetch, [{
    url: down,
    notBefore: now + 600_000,
    rules: [{ rule: "retry-after", value: "600", notBefore: now + 600_000 }],
  }]);
});
