/**
 * Discovery benchmark: a 50,000-URL sitemap and a 50,000-entry RSS feed served on loopback,
 * discovered and upserted end to end, then discovered again unchanged (one 304 each).
 */
import { join } from "node:path";
import { openDb } from "../src/db/mod.ts";

import type { DiscoveryEnv, DiscoveryResult } from "../src/discovery/base.ts";
import { RssDiscovery, schema as rssSchema } from "../src/discovery/rss.ts";
import { schema as sitemapSchema, SitemapDiscovery } from "../src/discovery/sitemap.ts";
import { silentLogger } from "../src/util/log.ts";

const COUNT = 50_000;

function sitemapDocument(): string {
  const urls: string[] = [];
  for (let i = 0; i < COUNT; i++) {
    urls.push(
      `<url><loc>https://example.com/page/${i}?ref=bench&amp;n=${i}</loc><lastmod>2024-05-${
        String(1 + (i % 28)).padStart(2, "0")
      }</lastmod><changefreq>weekly</changefreq></url>`,
    );
  }
  return `<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">${
    urls.join("\n")
  }</urlset>`;
}

function feedDocument(): string {
  const items: string[] = [];
  for (let i = 0; i < COUNT; i++) {
    items.push(
      `<item><title>Post ${i} &amp; more</title><link>https://example.com/posts/${i}</link><guid isPermaLink="false">post-${i}</guid><pubDate>Tue, 0${
        1 + (i % 9)
      } Jan 2024 10:00:00 GMT</pubDate><description><![CDATA[<p>Summary of post ${i}</p>]]></description><dc:creator>Author ${
        i % 50
      }</dc:creator></item>`,
    );
  }
  return `<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>Bench</title><link>https://example.com/</link>${
    items.join("\n")
  }</channel></rss>`;
}

interface Discoverer {
  discover(): Promise<DiscoveryResult>;
}

async function timed(
  db: DiscoveryEnv["db"],
  jobId: string,
  make: () => Discoverer,
): Promise<{ ms: number; items: number }> {
  const start = performance.now();
  const result = await make().discover();
  if (!result.notModified) await db.upsertItems({ jobId, stages: ["fetch"], items: result.items });
  return { ms: performance.now() - start, items: result.items.length };
}

/** Items per second of each discovery with its upsert, and the time of an unchanged second run. */
export async function benchDiscovery(): Promise<Record<string, number>> {
  const dir = await Deno.makeTempDir({ prefix: "jobs-bench-discovery-" });
  const db = await openDb(join(dir, "bench.sqlite"));
  const documents: Record<string, string> = {
    "/sitemap.xml": sitemapDocument(),
    "/feed.xml": feedDocument(),
  };
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, (req) => {
    const path = new URL(req.url).pathname;
    if (req.headers.get("if-none-match") === `"${path}"`) {
      return new Response(null, { status: 304 });
    }
    return new Response(documents[path], {
      headers: { etag: `"${path}"`, "content-type": "application/xml" },
    });
  });
  const origin = `http://127.0.0.1:${server.addr.port}`;
  try {
    const env = (jobId: string): DiscoveryEnv => ({ db, jobId, configDir: dir, log: silentLogger });
    const sitemap = () =>
      new SitemapDiscovery(sitemapSchema.parse({ url: `${origin}/sitemap.xml` }), env("sitemap"));
    const feed = () =>
      new RssDiscovery(rssSchema.parse({ url: `${origin}/feed.xml` }), env("feed"));
    const sitemapFirst = await timed(db, "sitemap", sitemap);
    const sitemapAgain = await timed(db, "sitemap", sitemap);
    const feedFirst = await timed(db, "feed", feed);
    const feedAgain = await timed(db, "feed", feed);
    if (sitemapFirst.items !== COUNT || feedFirst.items !== COUNT) {
      throw new Error(`expected ${COUNT} items, got ${sitemapFirst.items} and ${feedFirst.items}`);
    }
    const figures = {
      sitemap_items_per_s: Math.round(COUNT / (sitemapFirst.ms / 1000)),
      feed_items_per_s: Math.round(COUNT / (feedFirst.ms / 1000)),
      sitemap_unchanged_ms: Math.round(sitemapAgain.ms * 10) / 10,
      feed_unchanged_ms: Math.round(feedAgain.ms * 10) / 10,
    };
    report(figures);
    return figures;
  } finally {
    await server.shutdown();
    await db.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/** Prints each figure beside its target. */
function report(f: Record<string, number>): void {
  const rows: [string, string, boolean][] = [
    [
      `sitemap of ${COUNT} URLs, discovered and upserted: ${f.sitemap_items_per_s} items/s`,
      "≥ 20,000 items/s",
      f.sitemap_items_per_s >= 20_000,
    ],
    [
      `feed of ${COUNT} entries, discovered and upserted: ${f.feed_items_per_s} items/s`,
      "≥ 20,000 items/s",
      f.feed_items_per_s >= 20_000,
    ],
    [
      `unchanged sitemap again (304): ${f.sitemap_unchanged_ms} ms`,
      "< 50 ms",
      f.sitemap_unchanged_ms < 50,
    ],
    [`unchanged feed again (304): ${f.feed_unchanged_ms} ms`, "< 50 ms", f.feed_unchanged_ms < 50],
  ];
  for (const [what, target, met] of rows) {
    console.log(`${met ? "met   " : "MISSED"} ${what} (target ${target})`);
  }
}

if (import.meta.main) await benchDiscovery();
