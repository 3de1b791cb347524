import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { DiscoveryError, hashUrl } from "../../src/discovery/base.ts";
import { RssDiscovery, schema } from "../../src/discovery/rss.ts";
import { discoverAndRecord, readResult, reply, serveRoutes, testEnv } from "./_server.ts";

const RSS = `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
     xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom">
  <channel>
    <title>Example &amp; Co</title>
    <link>https://example.com/</link>
    <atom:link rel="self" href="https://example.com/feed.xml"/>
    <image><title>Logo title must not leak</title><url>/logo.png</url><link>/</link></image>
    <item>
      <title><![CDATA[Café <Bar> & Grill opens]]></title>
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
  const result = await new RssDiscovery(schema.parse(options), t.env).discover();
  return { ...result, items: [...result.items] };
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
        title: "Café <Bar> & Grill opens",
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
  const first = await discoverAndRecord(new RssDiscovery(options, t.env), t.db);
  assert.equal(first.items.length, 4);
  const second = await new RssDiscovery(options, t.env).discover();
  assert.deepEqual(readResult(second), {
    items: [],
    notModified: true,
    validators: [server.url("/feed.xml")],
    warnings: [],
    refetch: [],
    failed: [],
  });
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

Deno.test("rss refuses HTML pages, empty bodies and XML with no root, naming the URL", async () => {
  assert.equal(
    (await discoveryError("<!DOCTYPE html><html><body><p>Moved</body></html>")).message,
    "Cannot parse feed URL: not a feed: the document is an HTML page",
  );
  assert.equal((await discoveryError("  \n")).message, "Cannot parse feed URL: empty document");
  assert.equal(
    (await discoveryError('{"rss": {"channel": {}}}')).message,
    "Cannot parse feed URL: not a JSON Feed: no jsonfeed.org version",
  );
  assert.equal(
    (await discoveryError("<!-- nothing but a comment -->")).message,
    "Cannot parse feed URL: not well-formed XML: no root element",
  );
  assert.equal(
    (await discoveryError('<rss version="2.0">\n</rss')).message,
    "Cannot parse feed URL: not well-formed XML: the document ends inside <rss> at line 2, column 6; nothing could be read",
  );
});

Deno.test("rss expands declared entities within a bound and never fetches external ones", async () => {
  const declared = `<?xml version="1.0"?>
<!DOCTYPE rss [
  <!ENTITY a "A&amp;B">
  <!ENTITY b "&a;&a;">
  <!ENTITY c '&b; &#233;'>
]>
<rss version="2.0"><channel><item><guid>1</guid><title>&b; / &c;</title></item></channel></rss>`;
  await using server = serveRoutes({
    "/feed.xml": () => reply(declared),
    "/external.xml": () =>
      reply(
        `<!DOCTYPE rss [<!ENTITY xxe SYSTEM "${
          server.url("/secret")
        }">]><rss><channel><item><title>&xxe;</title></item></channel></rss>`,
      ),
    "/parameter.xml": () =>
      reply(
        `<!DOCTYPE rss [<!ENTITY % p SYSTEM "${
          server.url("/secret")
        }"> %p;]><rss><channel><item><title>x</title></item></channel></rss>`,
      ),
    "/secret": () => reply("secret"),
  });
  await using t = await testEnv();
  const options = schema.parse({ url: server.url("/feed.xml") });
  const result = await new RssDiscovery(options, t.env).discover();
  assert.deepEqual([...result.items].map((i) => i.data.title), ["A&BA&B / A&BA&B é"]);
  assert.deepEqual(result.warnings, []);
  for (const path of ["/external.xml", "/parameter.xml"]) {
    const error = await discover({ url: server.url(path) }).then(() => undefined, (err) => err);
    assert.match(
      error?.message,
      new RegExp(
        `^Cannot parse feed ${
          server.url(path)
        }: not well-formed XML: external and parameter entities are not allowed at line 1, column \\d+$`,
      ),
    );
  }
  assert.equal(server.count("/secret"), 0);
});

Deno.test("rss refuses entity expansion bombs: billion laughs, quadratic blow-up, recursion", async () => {
  const levels = ['<!ENTITY lol0 "lol">'];
  for (let i = 1; i <= 9; i++) levels.push(`<!ENTITY lol${i} "${`&lol${i - 1};`.repeat(10)}">`);
  const laughs = `<!DOCTYPE rss [${levels.join("")}]>` +
    `<rss><channel><item><title>&lol9;</title></item></channel></rss>`;
  assert.match(
    (await discoveryError(laughs)).message,
    /^Cannot parse feed URL: not well-formed XML: entity expansion exceeds the allowed size at line 1, column \d+$/,
  );
  const quadratic = `<!DOCTYPE rss [<!ENTITY a "${"x".repeat(1000)}">]>` +
    `<rss><channel><item><title>${"&a;".repeat(5000)}</title></item></channel></rss>`;
  assert.equal(
    (await discoveryError(quadratic)).message,
    "Cannot parse feed URL: not well-formed XML: entity expansion exceeds the allowed size at line 1, column 4059",
  );
  const recursive = `<!DOCTYPE rss [<!ENTITY a "&b;"><!ENTITY b "&a;">]>` +
    `<rss><channel><item><title>&a;</title></item></channel></rss>`;
  assert.match(
    (await discoveryError(recursive)).message,
    /^Cannot parse feed URL: not well-formed XML: the entity "a" refers to itself at line 1, column \d+$/,
  );
});

Deno.test("rss refuses absurd nesting", async () => {
  const nested = `<rss>${"<a>".repeat(1000)}${"</a>".repeat(1000)}</rss>`;
  assert.equal(
    (await discoveryError(nested)).message,
    "Cannot parse feed URL: not well-formed XML: elements are nested too deeply at line 1, column 771",
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
  assert.deepEqual([...items].map((i) => i.key), ["1"]);
  assert.deepEqual(t.logs.map((l) => [l.level, l.message]), [
    [
      "warn",
      `Feed ${
        server.url("/feed.xml")
      }: an undeclared namespace prefix "itunes" at line 1, column 49`,
    ],
  ]);
});

Deno.test("rss reads an element with an unknown undeclared prefix as foreign, not as RSS", async () => {
  await using t = await testEnv();
  const body = '<rss version="2.0"><channel><item><guid>1</guid><title>T</title>' +
    "<constructor:title>no</constructor:title><slash:comments>5</slash:comments>" +
    "</item></channel></rss>";
  await using server = serveRoutes({ "/feed.xml": () => reply(body) });
  const options = schema.parse({ url: server.url("/feed.xml") });
  const { items } = await new RssDiscovery(options, t.env).discover();
  assert.deepEqual([...items].map((i) => [i.key, i.data.title, i.data.comments]), [
    ["1", "T", undefined],
  ]);
  const url = server.url("/feed.xml");
  assert.deepEqual(t.logs.map((l) => l.message), [
    `Feed ${url}: an undeclared namespace prefix "constructor" at line 1, column 65`,
    `Feed ${url}: an undeclared namespace prefix "slash" at line 1, column 106`,
  ]);
});

Deno.test("rss filters by entry date with `since` and keeps `limit` items", async () => {
  const { items } = await (async () => {
    await using server = serveRoutes({ "/feed.xml": () => reply(RSS) });
    return await discover({ url: server.url("/feed.xml"), since: "2024-03-05", limit: 5 });
  })();
  // Undated entries pass the date filter; the one from 2024-03-04 does not.
  assert.deepEqual(items.map((i) => i.data.title), ["Café <Bar> & Grill opens", undefined]);
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

interface Malformed {
  what: string;
  body: string;
  titles: (string | undefined)[];
  /** Each warning's message and the text its position points at ("" for the end). */
  warnings: [string, string][];
}

const ITEM = (n: number, title = `Post ${n}`) =>
  `<item><guid>g${n}</guid><title>${title}</title></item>`;

/** "line L, column C" of the first `needle` in `text` ("" for the end of the text). */
function at(text: string, needle: string): string {
  const index = needle === "" ? text.length : text.indexOf(needle);
  assert.ok(index >= 0, `"${needle}" is not in the document`);
  const before = text.slice(0, index).split("\n");
  return `line ${before.length}, column ${before.at(-1)!.length + 1}`;
}

/** Documents that feedparser's loose mode, gofeed, miniflux and SimplePie all read. */
const MALFORMED: Malformed[] = [
  {
    what: 'a bare "&"',
    body: `<rss version="2.0"><channel>${ITEM(1, "Fish & Chips &amp; more")}</channel></rss>`,
    titles: ["Fish & Chips & more"],
    warnings: [['a bare "&" (read as text)', "& Chips"]],
  },
  {
    what: 'a "<" in text',
    body: `<rss version="2.0"><channel>${ITEM(1, "1 < 2 and x<3")}</channel></rss>`,
    titles: ["1 < 2 and x<3"],
    warnings: [['a "<" in text (read as text) at POS (2 times)', "< 2"]],
  },
  {
    what: "undeclared HTML entities",
    body: `<rss version="2.0"><channel>${
      ITEM(1, "Caf&eacute;&nbsp;&copy; &bogus;")
    }</channel></rss>`,
    titles: ["Café © &bogus;"],
    warnings: [
      ["an undeclared HTML entity &eacute; (read as HTML)", "&eacute;"],
      ["an undeclared HTML entity &nbsp; (read as HTML)", "&nbsp;"],
      ["an undeclared HTML entity &copy; (read as HTML)", "&copy;"],
      ["an undefined entity &bogus; (kept as text)", "&bogus;"],
    ],
  },
  {
    what: "unclosed and mis-nested tags",
    body: `<rss version="2.0"><channel>
<item><guid>g1</guid><title>One</titel></item>
<item><guid>g2</guid><title><b>Two</title></b></item>
</channel></rss>`,
    titles: ["One", "Two"],
    warnings: [
      ["an end tag </titel> that closes no open element (ignored)", "</titel>"],
      ["an unclosed <title> (closed by </item>)", "</item>"],
      ["an unclosed <b> (closed by </title>)", "</title></b>"],
      ["an end tag </b> that closes no open element (ignored)", "</b>"],
    ],
  },
  {
    what: "a truncated document",
    body: `<rss version="2.0"><channel>\n${ITEM(1)}\n${ITEM(2)}\n<item><guid>g3</guid><title>Po`,
    titles: ["Post 1", "Post 2"],
    warnings: [["the document ends inside <title>", ""]],
  },
  {
    what: "text after the root element",
    body: `<rss version="2.0"><channel>${ITEM(1)}</channel></rss>\n<!-- served by x -->trailer`,
    titles: ["Post 1"],
    warnings: [["text after the root element (ignored)", "trailer"]],
  },
  {
    what: "a comment before the XML declaration",
    body: `<!-- generated -->\n<?xml version="1.0"?><rss version="2.0"><channel>${
      ITEM(1)
    }</channel></rss>`,
    titles: ["Post 1"],
    warnings: [["the XML declaration is not at the start of the document", "<?xml"]],
  },
  {
    what: "whitespace before the XML declaration",
    body: `\n\n  <?xml version="1.0"?><rss version="2.0"><channel>${ITEM(1)}</channel></rss>`,
    titles: ["Post 1"],
    warnings: [["the XML declaration is not at the start of the document", "<?xml"]],
  },
  {
    what: "a byte-order mark after whitespace, before the XML declaration",
    body: ` \ufeff<?xml version="1.0"?><rss version="2.0"><channel>${ITEM(1)}</channel></rss>`,
    titles: ["Post 1"],
    warnings: [
      ["a byte-order mark after the start of the document", "\ufeff"],
      ["the XML declaration is not at the start of the document", "<?xml"],
    ],
  },
];

for (const c of MALFORMED) {
  Deno.test(`rss reads a feed with ${c.what}, warning with the URL and the place`, async () => {
    await using t = await testEnv();
    await using server = serveRoutes({ "/feed.xml": () => reply(c.body) });
    const url = server.url("/feed.xml");
    const result = await new RssDiscovery(schema.parse({ url }), t.env).discover();
    assert.deepEqual([...result.items].map((i) => i.data.title), c.titles);
    const expected = c.warnings.map(([message, needle]) => {
      const place = at(c.body, needle);
      return `Feed ${url}: ${
        message.includes("POS") ? message.replace("POS", place) : `${message} at ${place}`
      }`;
    });
    assert.deepEqual(result.warnings, expected);
    assert.deepEqual(
      t.logs.map((l) => `${l.level}: ${l.message}`),
      expected.map((w) => `warn: ${w}`),
    );
  });
}

Deno.test("rss reads a byte-order mark at the start of the document without a warning", async () => {
  await using server = serveRoutes({
    "/feed.xml": () =>
      reply(`\ufeff<?xml version="1.0"?><rss version="2.0"><channel>${ITEM(1)}</channel></rss>`),
  });
  const result = await discover({ url: server.url("/feed.xml") });
  assert.deepEqual(result.items.map((i) => i.data.title), ["Post 1"]);
  assert.deepEqual(result.warnings, []);
});

/** Entries of `body` served as a feed, with the result's warnings. */
async function served(body: string, headers: HeadersInit = {}) {
  await using server = serveRoutes({ "/feed.xml": () => reply(body, headers) });
  const url = server.url("/feed.xml");
  return { url, ...(await discover({ url })) };
}

Deno.test("rss titles are text: escaped markup in them stays", async () => {
  const { items } = await served(`<rss version="2.0"><channel>
<title>Code &lt;b&gt;feed&lt;/b&gt;</title>
${ITEM(1, "List&lt;String&gt; in Java")}
${ITEM(2, "RSS &lt;&lt;&lt;Tutorial&gt;&gt;&gt;")}
${ITEM(3, "<![CDATA[a <b>c</b> & d]]>")}
<item><guid>g4</guid><title type="html">it&amp;apos;s &lt;b&gt;bold&lt;/b&gt;</title></item>
</channel></rss>`);
  assert.deepEqual(items.map((i) => i.data.title), [
    "List<String> in Java",
    "RSS <<<Tutorial>>>",
    "a <b>c</b> & d",
    "it's bold",
  ]);
  assert.equal(
    items[0].data.feed && (items[0].data.feed as { title: string }).title,
    "Code <b>feed</b>",
  );
});

Deno.test("rss uses only http(s) links as item URLs and warns about the others", async () => {
  const { url, items, warnings } = await served(`<rss version="2.0"><channel>
<item><guid>a</guid><link>javascript:alert(1)</link></item>
<item><guid>b</guid><link>mailto:me@example.com</link></item>
<item><guid>c</guid><link>ftp://example.com/file</link></item>
<item><guid>d</guid><link>https://example.com/d</link></item>
<item><link>javascript:void(0)</link><title>no guid</title></item>
</channel></rss>`);
  assert.deepEqual(items.map((i) => [i.key, i.data.url]), [
    ["a", undefined],
    ["b", undefined],
    ["c", undefined],
    ["d", "https://example.com/d"],
    [md5Key("no guid\n"), undefined],
  ]);
  assert.deepEqual(warnings, [
    `Feed ${url}: 4 links are not http(s) and not used as item URL (first: "javascript:alert(1)")`,
  ]);
});

Deno.test("an empty enclosure href is no enclosure", async () => {
  const atom = await served(`<feed xmlns="http://www.w3.org/2005/Atom">
<entry><id>urn:e1</id><link rel="enclosure" href="" type="audio/mpeg"/>
<link rel="enclosure" href="  " type="audio/mpeg"/><link href="https://example.com/e1"/></entry>
<entry><id>urn:e2</id><link rel="enclosure" href="e2.mp3"/></entry>
</feed>`);
  assert.deepEqual(atom.items.map((i) => [i.key, i.data.url, i.data.enclosures]), [
    ["urn:e1", "https://example.com/e1", undefined],
    ["urn:e2", undefined, [{ url: new URL("e2.mp3", atom.url).href }]],
  ]);
  const rss = await served(`<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel>
<item><guid>r1</guid><enclosure url="" type="audio/mpeg" length="1"/>
<atom:link rel="enclosure" href=""/></item></channel></rss>`);
  assert.deepEqual(rss.items.map((i) => [i.key, i.data.enclosures]), [["r1", undefined]]);
});

for (
  const ns of [
    "http://my.netscape.com/rdf/simple/0.9/",
    "http://channel.netscape.com/rdf/simple/0.9/",
  ]
) {
  Deno.test(`rss reads RSS 0.90 in the namespace ${ns}`, async () => {
    const { items } = await served(`<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="${ns}">
  <channel><title>Mozilla Dot Org</title><link>http://www.mozilla.org</link></channel>
  <item><title>New Status Updates</title><link>http://www.mozilla.org/status/</link></item>
  <item><title>Bugzilla Reorganized</title><link>http://www.mozilla.org/bugs/</link></item>
</rdf:RDF>`);
    assert.deepEqual(items.map((i) => [i.data.title, i.data.url, i.data.feed]), [
      ["New Status Updates", "http://www.mozilla.org/status/", items[0].data.feed],
      ["Bugzilla Reorganized", "http://www.mozilla.org/bugs/", items[0].data.feed],
    ]);
    const feed = items[0].data.feed as Record<string, unknown>;
    assert.deepEqual([feed.title, feed.format], ["Mozilla Dot Org", "rss090"]);
  });
}

Deno.test("Atom link relations: the IANA URI form and any letter case are one relation", async () => {
  const { items } = await served(`<feed xmlns="http://www.w3.org/2005/Atom">
<entry><id>1</id><link rel="http://www.iana.org/assignments/relation/alternate" href="https://example.com/1"/></entry>
<entry><id>2</id><link rel="ALTERNATE" href="https://example.com/2"/>
<link rel="Enclosure" href="https://example.com/2.mp3" type="audio/mpeg"/></entry>
<entry><id>3</id><link rel="http://www.iana.org/assignments/relation/enclosure" href="https://example.com/3.mp3"/>
<link rel="https://example.com/rels/Custom" href="https://example.com/custom"/>
<link href="https://example.com/3"/></entry>
</feed>`);
  assert.deepEqual(items.map((i) => [i.data.url, i.data.enclosures]), [
    ["https://example.com/1", undefined],
    ["https://example.com/2", [{ url: "https://example.com/2.mp3", type: "audio/mpeg" }]],
    ["https://example.com/3", [{ url: "https://example.com/3.mp3" }]],
  ]);
});

Deno.test("rss returns what the source says about its next fetch: headers, ttl, skipHours, skipDays", async () => {
  const now = Date.UTC(2024, 4, 6, 10, 30); // a Monday
  await using t = await testEnv({ now: () => now });
  const body = `<rss version="2.0"><channel><title>T</title><ttl>90</ttl>
<skipHours><hour>12</hour><hour>13</hour><hour>x</hour></skipHours>
<skipDays><day>Sunday</day><day>Someday</day></skipDays>${ITEM(1)}</channel></rss>`;
  await using server = serveRoutes({
    "/feed.xml": () => reply(body, { "cache-control": "max-age=300" }),
    "/busy.xml": () => reply("busy", { "retry-after": "3600" }, 429),
  });
  const url = server.url("/feed.xml");
  const result = await new RssDiscovery(schema.parse({ url }), t.env).discover();
  const at14 = Date.UTC(2024, 4, 6, 14);
  assert.deepEqual(result.refetch, [{
    url,
    notBefore: at14,
    rules: [
      { rule: "max-age", value: "max-age=300", notBefore: now + 300_000 },
      { rule: "ttl", value: "90", notBefore: now + 90 * 60_000 },
      { rule: "skip-hours", value: "12,13", notBefore: at14 },
      { rule: "skip-days", value: "0", notBefore: at14 },
    ],
    skipHours: [12, 13],
    skipDays: [0],
  }]);
  const busy = server.url("/busy.xml");
  const error = await new RssDiscovery(schema.parse({ url: busy, retries: 0 }), t.env).discover()
    .then(() => undefined, (err) => err);
  assert.ok(error instanceof DiscoveryError);
  assert.equal(error.status, 429);
  assert.deepEqual(error.refetch, {
    url: busy,
    notBefore: now + 3_600_000,
    rules: [{ rule: "retry-after", value: "3600", notBefore: now + 3_600_000 }],
  });
});
