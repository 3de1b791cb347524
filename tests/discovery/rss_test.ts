import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { DiscoveryError, hashUrl } from "../../src/discovery/base.ts";
import { RssDiscovery, schema } from "../../src/discovery/rss.ts";
import { reply, serveRoutes, testEnv } from "./_server.ts";

const RSS = `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
     xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom">
  <channel>
    <title>Example &amp; Co</title>
    <link>https://example.com/</link>
    <atom:link rel="self" href="https://example.com/feed.xml"/>
    <image><title>Logo title must not leak</title><url>/logo.png</url><link>/</link></image>
    <item>
      <title><![CDATA[Caf&eacute; <b>opens</b>]]></title>
      <link>/posts/cafe</link>
      <guid isPermaLink="false">tag:example.com,2024:cafe</guid>
      <pubDate>Tue, 05 Mar 2024 09:30:00 +0100</pubDate>
      <dc:creator>Ann</dc:creator>
      <description>&lt;p&gt;Short&lt;/p&gt;</description>
      <content:encoded><![CDATA[<p>Long <em>body</em></p>]]></content:encoded>
      <category>news</category>
    </item>
    <item>
      <title>No guid: AT&amp;T &#8220;quoted&#8221;</title>
      <link>https://example.com/posts/att?utm_source=rss</link>
      <dc:date>2024-03-04T08:00:00-05:00</dc:date>
    </item>
    <item>
      <title>Neither guid nor link</title>
      <pubDate>Mon, 4 Mar 24 07:00 EST</pubDate>
    </item>
    <item>
      <guid>https://example.com/permalink-only</guid>
      <pubDate>not a date</pubDate>
    </item>
  </channel>
</rss>`;

const ATOM = `<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://blog.example.org/">
  <title type="html">Blog &lt;i&gt;name&lt;/i&gt;</title>
  <entry xml:base="2024/">
    <id>urn:uuid:60a76c80-d399-11d9-b93c-0003939e0af6</id>
    <title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">Inline <b>XHTML</b></div></title>
    <link rel="related" href="https://other.example/"/>
    <link href="first-post"/>
    <link rel="enclosure" type="audio/mpeg" length="1234" href="audio/first.mp3"/>
    <published>2024-02-01T10:00:00Z</published>
    <updated>2024-02-02T10:00:00.123+02:00</updated>
    <author><name>Bo</name></author>
    <category term="notes"/>
  </entry>
</feed>`;

async function discover(options: Record<string, unknown>) {
  await using t = await testEnv();
  return await new RssDiscovery(schema.parse(options), t.env).discover();
}

function md5Key(text: string): string {
  return createHash("md5").update(text).digest("hex").slice(0, 16);
}

Deno.test("rss reads CDATA, namespaces, entities, relative links and missing guids", async () => {
  await using server = serveRoutes({
    "/feed.xml": () => reply(RSS, { "content-type": "application/rss+xml" }),
  });
  const feedUrl = server.url("/feed.xml");
  const { items, notModified } = await discover({ url: feedUrl });
  assert.equal(notModified, false);
  const feed = { url: feedUrl, title: "Example & Co", format: "rss20" };
  assert.deepEqual(items, [
    {
      key: "tag:example.com,2024:cafe",
      data: {
        id: "tag:example.com,2024:cafe",
        url: `${server.origin}/posts/cafe`,
        title: "Café opens",
        published: "2024-03-05T08:30:00.000Z",
        summary: "<p>Short</p>",
        content: "<p>Long <em>body</em></p>",
        authors: ["Ann"],
        categories: ["news"],
        feed,
      },
    },
    {
      key: hashUrl("https://example.com/posts/att"),
      data: {
        url: "https://example.com/posts/att?utm_source=rss",
        title: "No guid: AT&T \u201cquoted\u201d",
        published: "2024-03-04T13:00:00.000Z",
        updated: "2024-03-04T13:00:00.000Z",
        feed,
      },
    },
    {
      key: md5Key("Neither guid nor link\n2024-03-04T12:00:00.000Z"),
      data: { title: "Neither guid nor link", published: "2024-03-04T12:00:00.000Z", feed },
    },
    {
      key: "https://example.com/permalink-only",
      data: {
        id: "https://example.com/permalink-only",
        url: "https://example.com/permalink-only",
        feed,
      },
    },
  ]);
});

Deno.test("rss detects Atom by content and resolves links against nested xml:base", async () => {
  await using server = serveRoutes({
    "/feed.rss": () => reply(ATOM, { "content-type": "text/plain" }),
  });
  const { items } = await discover({ url: server.url("/feed.rss") });
  assert.deepEqual(items, [{
    key: "urn:uuid:60a76c80-d399-11d9-b93c-0003939e0af6",
    data: {
      id: "urn:uuid:60a76c80-d399-11d9-b93c-0003939e0af6",
      url: "https://blog.example.org/2024/first-post",
      title: "Inline XHTML",
      published: "2024-02-01T10:00:00.000Z",
      updated: "2024-02-02T08:00:00.000Z",
      authors: ["Bo"],
      categories: ["notes"],
      enclosures: [{
        url: "https://blog.example.org/2024/audio/first.mp3",
        type: "audio/mpeg",
        length: 1234,
      }],
      feed: { url: server.url("/feed.rss"), title: "Blog name", format: "atom10" },
    },
  }]);
});

Deno.test("rss reads JSON Feed and merges several feeds in order", async () => {
  const json = {
    version: "https://jsonfeed.org/version/1.1",
    title: "JSON",
    items: [{ id: 7, url: "/seven", title: "Seven", date_published: "2024-01-02T03:04:05+01:00" }],
  };
  await using server = serveRoutes({
    "/feed.json": () => reply(JSON.stringify(json), { "content-type": "application/feed+json" }),
    "/feed.xml": () => reply(RSS),
  });
  const { items } = await discover({ urls: [server.url("/feed.json"), server.url("/feed.xml")] });
  assert.deepEqual(items.map((i) => i.key).slice(0, 2), ["7", "tag:example.com,2024:cafe"]);
  assert.deepEqual(items[0].data, {
    id: "7",
    url: `${server.origin}/seven`,
    title: "Seven",
    published: "2024-01-02T02:04:05.000Z",
    feed: { url: server.url("/feed.json"), title: "JSON", format: "json11" },
  });
  assert.equal(items.length, 5);
});

Deno.test("rss decodes UTF-16 with a BOM and the Content-Type charset", async () => {
  const utf16 = new Uint8Array([
    0xff,
    0xfe,
    ...new Uint8Array(
      new Uint16Array(
        Array.from(
          `<?xml version="1.0" encoding="utf-16"?><rss version="2.0"><channel><item><guid>a</guid><title>\u00e9t\u00e9 \u2603</title></item></channel></rss>`,
          (c) => c.charCodeAt(0),
        ),
      ).buffer,
    ),
  ]);
  const latin = new Uint8Array([
    ...new TextEncoder().encode('<rss version="2.0"><channel><item><guid>b</guid><title>'),
    0x93,
    0x63,
    0x61,
    0x66,
    0xe9,
    0x94, // “café” in windows-1252
    ...new TextEncoder().encode("</title></item></channel></rss>"),
  ]);
  await using server = serveRoutes({
    "/utf16.xml": () => reply(utf16, { "content-type": "application/xml" }),
    "/latin.xml": () => reply(latin, { "content-type": "text/xml; charset=windows-1252" }),
  });
  const { items } = await discover({ urls: [server.url("/utf16.xml"), server.url("/latin.xml")] });
  assert.deepEqual(items.map((i) => i.data.title), [
    "\u00e9t\u00e9 \u2603",
    "\u201ccaf\u00e9\u201d",
  ]);
});

Deno.test("rss costs one 304 and no parsing when the feed is unchanged", async () => {
  await using t = await testEnv();
  await using server = serveRoutes({
    "/feed.xml": (req) =>
      req.headers.get("if-none-match") === '"v1"'
        ? reply(null, {}, 304)
        : reply(RSS, { etag: '"v1"', "content-type": "application/rss+xml" }),
  });
  const options = schema.parse({ url: server.url("/feed.xml") });
  const first = await new RssDiscovery(options, t.env).discover();
  assert.equal(first.items.length, 4);
  const second = await new RssDiscovery(options, t.env).discover();
  assert.deepEqual(second, { items: [], notModified: true });
  assert.equal(server.count("/feed.xml"), 2);
  assert.equal(server.hits[1].headers.get("if-none-match"), '"v1"');
});

async function discoveryError(body: string, options: Record<string, unknown> = {}) {
  await using server = serveRoutes({
    "/feed.xml": () => reply(body, { "content-type": "application/xml" }),
  });
  const url = server.url("/feed.xml");
  const error = await discover({ url, ...options }).then(() => undefined, (err) => err);
  assert.ok(error instanceof DiscoveryError, `expected a DiscoveryError, got ${error}`);
  return { message: error.message.replace(url, "URL"), hits: server.hits.map((h) => h.path) };
}

Deno.test("rss reports malformed XML, HTML pages and empty bodies with the URL and the place", async () => {
  const broken = '<rss version="2.0"><channel>\n<item><title>x</titel></item></channel></rss>';
  assert.equal(
    (await discoveryError(broken)).message,
    'Cannot parse feed URL: not well-formed XML: Expected closing tag "title" (opened in line 2, col 7) instead of closing tag "titel" at line 2, column 15',
  );
  assert.equal(
    (await discoveryError("<!DOCTYPE html><html><body><p>Moved</body></html>")).message,
    "Cannot parse feed URL: not a feed: the document is an HTML page",
  );
  assert.equal((await discoveryError("  \n")).message, "Cannot parse feed URL: empty document");
  assert.equal(
    (await discoveryError('{"rss": {"channel": {}}}')).message,
    "Cannot parse feed URL: not a JSON Feed: no jsonfeed.org version",
  );
});

Deno.test("rss never expands nested entities (billion laughs) nor fetches external ones", async () => {
  const laughs = `<?xml version="1.0"?>
<!DOCTYPE rss [
  <!ENTITY lol "lol">
  <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<rss version="2.0"><channel><item><guid>1</guid><title>a &lol3; b &lol;</title></item></channel></rss>`;
  await using server = serveRoutes({
    "/feed.xml": () => reply(laughs),
    "/external.xml": () =>
      reply(
        `<!DOCTYPE rss [<!ENTITY xxe SYSTEM "${
          server.url("/secret")
        }">]><rss><channel><item><title>&xxe;</title></item></channel></rss>`,
      ),
    "/secret": () => reply("secret"),
  });
  const { items } = await discover({ url: server.url("/feed.xml") });
  assert.deepEqual(items.map((i) => i.data.title), ["a &lol3; b lol"]);
  const error = await discover({ url: server.url("/external.xml") }).then(
    () => undefined,
    (err) => err,
  );
  assert.equal(
    error?.message,
    `Cannot parse feed ${
      server.url("/external.xml")
    }: not well-formed XML: external and parameter entities are not allowed`,
  );
  assert.equal(server.count("/secret"), 0);
});

Deno.test("rss stops a quadratic entity blow-up and absurd nesting with an error", async () => {
  const quadratic = `<!DOCTYPE rss [<!ENTITY a "${"x".repeat(1000)}">]>` +
    `<rss><channel><item><title>${"&a;".repeat(5000)}</title></item></channel></rss>`;
  assert.equal(
    (await discoveryError(quadratic)).message,
    "Cannot parse feed URL: not well-formed XML: entity expansion exceeds the allowed size",
  );
  const nested = `<rss>${"<a>".repeat(1000)}${"</a>".repeat(1000)}</rss>`;
  assert.equal(
    (await discoveryError(nested)).message,
    "Cannot parse feed URL: not well-formed XML: elements are nested too deeply",
  );
});

Deno.test("rss refuses a response larger than max_bytes", async () => {
  const huge = `<rss version="2.0"><channel>${
    "<item><title>x</title></item>".repeat(40_000)
  }</channel></rss>`;
  const { message } = await discoveryError(huge, { max_bytes: "1MB" });
  assert.equal(message, "Response from URL is larger than max_bytes (1048576 bytes)");
});

Deno.test("rss warns about undeclared prefixes but still reads the feed", async () => {
  await using t = await testEnv();
  const body =
    '<rss version="2.0"><channel><item><guid>1</guid><itunes:duration>61</itunes:duration></item></channel></rss>';
  await using server = serveRoutes({ "/feed.xml": () => reply(body) });
  const options = schema.parse({ url: server.url("/feed.xml") });
  const { items } = await new RssDiscovery(options, t.env).discover();
  assert.deepEqual(items.map((i) => i.key), ["1"]);
  assert.deepEqual(t.logs.map((l) => [l.level, l.message]), [
    ["warn", `Feed ${server.url("/feed.xml")}: undeclared namespace prefix "itunes"`],
  ]);
});

Deno.test("rss filters by entry date with `since` and keeps `limit` items", async () => {
  const { items } = await (async () => {
    await using server = serveRoutes({ "/feed.xml": () => reply(RSS) });
    return await discover({ url: server.url("/feed.xml"), since: "2024-03-05", limit: 5 });
  })();
  // Undated entries pass the date filter; the one from 2024-03-04 does not.
  assert.deepEqual(items.map((i) => i.data.title), ["Café opens", undefined]);
});

Deno.test("rss's schema requires url or urls and rejects unknown options", () => {
  assert.deepEqual(schema.safeParse({}).error?.issues.map((i) => i.message), [
    'expected exactly one of "url" or "urls"',
  ]);
  assert.deepEqual(
    schema.safeParse({ url: "https://x/", depth: 1 }).error?.issues.map((i) => i.message),
    [
      'Unrecognized key: "depth"',
    ],
  );
});
