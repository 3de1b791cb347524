import assert from "node:assert/strict";
import { join } from "node:path";
import { loadConfig } from "../../src/config/load.ts";
import { openDb } from "../../src/db/mod.ts";
import { collectStatus } from "../../src/status/report.ts";
import { discoveryLine } from "../../src/dashboard/status_parts.ts";

const NOW = Date.UTC(2026, 0, 1, 12);

Deno.test("the dashboard's discovery line lists held sources with their next try, escaped", async () => {
  const dir = await Deno.makeTempDir({ prefix: "jobs-dashboard-held-" });
  try {
    const url = "https://example.org/feed.xml?a=1&b=<2>";
    await Deno.writeTextFile(
      join(dir, "jobs.yaml"),
      `jobs:\n  feed:\n    discovery: { strategy: rss, url: "${url}" }\n    handler: builtin:fetch\n`,
    );
    const config = await loadConfig(join(dir, "jobs.yaml"));
    const db = await openDb(join(dir, "jobs.sqlite"));
    try {
      const common = { jobId: "feed", error: null, skipHours: [], skipDays: [], updatedAt: NOW };
      await db.saveSourceHolds({
        put: [
          {
            ...common,
            scope: "url",
            target: url,
            host: "example.org",
            failures: 2,
            untilAt: NOW + 120_000,
            reason: "failed 2 times in a row",
            error: "HTTP 503 Service Unavailable",
          },
          // A wait that has ended and no failure: nothing to show.
          {
            ...common,
            scope: "url",
            target: "https://example.org/old.xml",
            host: "example.org",
            failures: 0,
            untilAt: NOW - 1,
            reason: "ttl: 60",
          },
        ],
        clear: [],
      });
      const [job] = (await collectStatus(db, config, { now: NOW })).jobs;
      const rendered = discoveryLine(job).value.replace(/>\s+</g, "><").replace(/\s+/g, " ")
        .trim();
      assert.equal(
        rendered.slice(rendered.indexOf("<ul")),
        `<ul class="muted held"><li data-job="feed" data-field="discovery.held.0">` +
          `https://example.org/feed.xml?a=1&amp;b=&lt;2&gt;: failed 2 times in a row: ` +
          `HTTP 503 Service Unavailable · next try 2026-01-01 12:02:00 UTC</li></ul>`,
      );
    } finally {
      await db.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
