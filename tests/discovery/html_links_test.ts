import assert from "node:assert/strict";
import { hashUrl } from "../../src/discovery/base.ts";
import { HtmlLinksDiscovery, schema } from "../../src/discovery/html_links.ts";
import { discoverAndRecord, readResult, reply, serveRoutes, testEnv } from "./_server.ts";

const PAGE = `<!DOCTYPE html>
<html><head><title>Blog</title></head>
<body>
  <nav><a href="/">Home</a> <a href="/about">About</a></nav>
  <main>
    <article><h2><a href="2024/first-post.html">First&nbsp;post &amp; more</a></h2></article>
    <article><h2><a href="./2024/second.html?utm_source=rss#comments">  Second
      post </a></h2></article>
    <article><h2><a href="https://other.example/2024/third.html">Third</a></h2></article>
    <article><h2><a href="2024/first-post.html#again">First again</a></h2></article>
    <article><h2><a href="/search?q=a&amp;page=2">Search</a></h2></article>
  </main>
  <a href="https://elsewhere.example/x">Elsewhere</a>
  <a href="mailto:me@example.com">Mail</a> <a href="javascript:void(0)">JS</a> <a>No href</a>
</body></html>`;

function serve(html: string) {
  return serveRoutes({
    "/blog/index.html": () => reply(html, { "content-type": "text/html; charset=utf-8" }),
  });
}

Deno.test("html_links resolves relative links, decodes entities and keeps the page's host", async () => {
  await using server = serve(PAGE);
  await using t = await testEnv();
  const page = server.url("/blog/index.html");
  const options = schema.parse({ url: page });
  const items = [...(await new HtmlLinksDiscovery(options, t.env).discover()).items];
  const base = server.origin;
  assert.deepEqual(items.map((i) => i.data.url), [
    `${base}/`,
    `${base}/about`,
    `${base}/blog/2024/first-post.html`,
    `${base}/blog/2024/second.html?utm_source=rss`,
    `${base}/search?q=a&page=2`,
  ]);
  assert.deepEqual(items[2], {
    key: hashUrl(`${base}/blog/2024/first-post.html`),
    data: { url: `${base}/blog/2024/first-post.html`, text: "First post & more", page },
  });
  assert.equal(items[3].data.text, "Second post");
});

Deno.test("html_links picks links by CSS selector and href pattern, other sites on request", async () => {
  await using server = serve(PAGE);
  await using t = await testEnv();
  const options = schema.parse({
    url: server.url("/blog/index.html"),
    selector: "article h2 a",
    pattern: "^(\\./)?20\\d\\d/|/20\\d\\d/",
    same_site: false,
  });
  const items = [...(await new HtmlLinksDiscovery(options, t.env).discover()).items];
  assert.deepEqual(items.map((i) => i.data.text), ["First post & more", "Second post", "Third"]);
  assert.equal(items[2].data.url, "https://other.example/2024/third.html");
  const all = schema.parse({ url: server.url("/blog/index.html"), same_site: false });
  const everything = await new HtmlLinksDiscovery(all, t.env).discover();
  assert.equal([...everything.items].at(-1)?.data.url, "https://elsewhere.example/x");
});

Deno.test("html_links resolves against <base href> and answers 304 without parsing", async () => {
  const html = `<html><head><base href="/docs/v2/"></head><body>
    <a href="intro.html">Intro</a><a href="../v1/old.html">Old</a></body></html>`;
  await using server = serveRoutes({
    "/page": (req) =>
      req.headers.get("if-none-match") === '"p1"'
        ? reply(null, {}, 304)
        : reply(html, { "content-type": "text/html", etag: '"p1"' }),
  });
  await using t = await testEnv();
  const options = schema.parse({ url: server.url("/page") });
  const first = await discoverAndRecord(new HtmlLinksDiscovery(options, t.env), t.db);
  assert.deepEqual([...first.items].map((i) => i.data.url), [
    server.url("/docs/v2/intro.html"),
    server.url("/docs/v1/old.html"),
  ]);
  const second = await new HtmlLinksDiscovery(options, t.env).discover();
  assert.deepEqual(readResult(second), {
    items: [],
    notModified: true,
    validators: [server.url("/page")],
    warnings: [],
    refetch: [],
    failed: [],
  });
  assert.equal(server.hits.length, 2);
});

Deno.test("html_links' schema rejects a bad selector and a missing url", () => {
  const bad = schema.safeParse({ url: "https://a.test/", selector: "a[[" });
  assert.deepEqual(bad.error?.issues.map((i) => i.message), [
    'invalid CSS selector "a[[": Expected name, found [',
  ]);
  const none = schema.safeParse({});
  assert.deepEqual(none.error?.issues.map((i) => i.message), [
    'expected exactly one of "url" or "urls"',
  ]);
});

Deno.test("html_links decodes the page with the charset of its Content-Type", async () => {
  const latin1 = Uint8Array.from(
    [...'<a href="/caf\u00e9">Caf\u00e9 cr\u00e8me</a>'].map((c) => c.charCodeAt(0)),
  );
  await using server = serveRoutes({
    "/menu": () => reply(latin1, { "content-type": "text/html; charset=ISO-8859-1" }),
  });
  await using t = await testEnv();
  const { items } = await new HtmlLinksDiscovery(schema.parse({ url: server.url("/menu") }), t.env)
    .discover();
  assert.deepEqual([...items].map((i) => [i.data.url, i.data.text]), [[
    server.url("/caf%C3%A9"),
    "Caf\u00e9 cr\u00e8me",
  ]]);
});

Deno.test("html_links reads a page of 1,000,000 links without exhausting the stack", async () => {
  const links: string[] = [];
  for (let i = 0; i < 1_000_000; i++) links.push(`<a href="/p/${i}">${i}</a>`);
  const html = new TextEncoder().encode(`<html><body>${links.join("\n")}</body></html>`);
  await using page = serveRoutes({ "/links.html": () => reply(html) });
  await using t = await testEnv();
  const options = schema.parse({ url: page.url("/links.html"), max_bytes: "64MB" });
  const { items } = await new HtmlLinksDiscovery(options, t.env).discover();
  assert.equal(items.length, 1_000_000);
  assert.deepEqual([...items].at(-1), {
    key: hashUrl(page.url("/p/999999")),
    data: { url: page.url("/p/999999"), text: "999999", page: page.url("/links.html") },
  });
});
