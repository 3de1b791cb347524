import assert from "node:assert/strict";
import { join } from "node:path";
import { loadConfig } from "../../src/config/load.ts";
import type { JobConfig } from "../../src/config/types.ts";
import { tempDb } from "../db/_helpers.ts";
import type { SourceHold, Store } from "../../src/db/store.ts";
import type { RunContext } from "../../src/runner/context.ts";
import { discoverStep, type DiscoveryReport } from "../../src/runner/discover.ts";
import { BACKOFF_MAX_MS } from "../../src/discovery/_holds.ts";
import { silentLogger } from "../../src/util/log.ts";
import { fakeClock } from "./_helpers.ts";
import { reply, type Route, serveRoutes, type TestServer } from "../discovery/_server.ts";

const MINUTE = 60_000;

function feed(channelExtra = ""): string {
  return `<?xml version="1.0"?>
<rss version="2.0"><channel><title>News</title>${channelExtra}
  <item><guid>post-1</guid><title>One</title><link>https://example.org/1</link></item>
</channel></rss>`;
}

const rss = (body: string, headers: HeadersInit = {}) =>
  reply(body, { "content-type": "application/rss+xml", ...headers });

interface Setup extends AsyncDisposable {
  jobs: Record<string, JobConfig>;
  db: Store;
  server: TestServer;
  advance(ms: number): void;
  now(): number;
  /** Runs one discovery of `job` as a single-pass `jobctl run` would (or in another mode). */
  discover(job: string, mode?: RunContext["mode"]): Promise<DiscoveryReport>;
  /** The stored hold of `path` on the test server, if any. */
  hold(path: string): Promise<SourceHold | undefined>;
}

/** Jobs "a" and "b" reading /a.xml and /b.xml of one server whose routes the test gives. */
async function setUp(routes: Record<string, Route>, start?: number): Promise<Setup> {
  const server = serveRoutes(routes);
  // SQLite, or PostgreSQL when JOBS_TEST_PG_URL is set.
  const store = await tempDb();
  const { db, dir } = store;
  await Deno.writeTextFile(
    join(dir, "jobs.yaml"),
    `jobs:
  a:
    discovery: { strategy: rss, url: "${server.url("/a.xml")}", retries: 0 }
    handler: builtin:fetch
  b:
    discovery: { strategy: rss, url: "${server.url("/b.xml")}", retries: 0 }
    handler: builtin:fetch
  both:
    discovery: { strategy: rss, urls: ["${server.url("/a.xml")}", "${
      server.url("/b.xml")
    }"], retries: 0 }
    handler: builtin:fetch
  index:
    discovery: { strategy: sitemap, url: "${server.url("/index.xml")}", retries: 0 }
    handler: builtin:fetch
`,
  );
  const config = await loadConfig(join(dir, "jobs.yaml"));
  const clock = fakeClock(start);
  const ctx: RunContext = {
    mode: "production",
    db,
    runId: "holds-test",
    log: silentLogger,
    signal: new AbortController().signal,
    discoverOnly: false,
    singlePass: true,
    now: clock.now,
  };
  const jobs = Object.fromEntries(config.jobs.map((j) => [j.id, j]));
  return {
    jobs,
    db,
    server,
    advance: clock.advance,
    now: clock.now,
    discover: (job, mode = "production") =>
      discoverStep(jobs[job], { configDir: dir, leaseMs: 60_000 }, { ...ctx, mode }),
    hold: async (path) =>
      (await db.sourceHolds()).find((h) => h.scope === "url" && h.target === server.url(path)),
    async [Symbol.asyncDispose]() {
      await server[Symbol.asyncDispose]();
      await store[Symbol.asyncDispose]();
    },
  };
}

Deno.test("a failing source waits 1, 2, 4 … minutes up to a day, and is read again on its own", async () => {
  let healthy = false;
  await using t = await setUp({
    "/a.xml": () => healthy ? rss(feed()) : reply("down", {}, 503),
  });
  const first = await t.discover("a");
  assert.equal(first.error, `HTTP 503 Service Unavailable from ${t.server.url("/a.xml")}`);
  let hold = await t.hold("/a.xml");
  assert.equal(hold?.failures, 1);
  assert.equal(hold?.untilAt, t.now() + MINUTE);
  assert.equal(hold?.reason, "failed once");
  assert.equal(hold?.error, `HTTP 503 Service Unavailable from ${t.server.url("/a.xml")}`);

  t.advance(MINUTE - 1);
  const waiting = await t.discover("a");
  assert.equal(waiting.ran, false);
  assert.equal(
    waiting.note,
    `Not reading ${t.server.url("/a.xml")} until 2026-01-01T00:01:00.000Z: failed once: ` +
      `HTTP 503 Service Unavailable from ${t.server.url("/a.xml")}`,
  );
  assert.equal(t.server.count("/a.xml"), 1, "a held source is not requested");
  assert.equal((await t.db.getJobState("a")).discoveryFailures, 1, "waiting is no failure");

  const waits: number[] = [];
  for (let failures = 2; failures <= 13; failures++) {
    t.advance(hold!.untilAt - t.now());
    assert.equal((await t.discover("a")).ran, true, `re-probed after ${failures - 1} failures`);
    hold = await t.hold("/a.xml");
    assert.equal(hold?.failures, failures);
    waits.push(hold!.untilAt - t.now());
  }
  assert.deepEqual(waits.map((w) => w / MINUTE), [
    2,
    4,
    8,
    16,
    32,
    64,
    128,
    256,
    512,
    1024,
    BACKOFF_MAX_MS / MINUTE,
    BACKOFF_MAX_MS / MINUTE,
  ]);
  assert.equal(hold?.reason, "failed 13 times in a row");
  assert.equal(t.server.count("/a.xml"), 13);

  healthy = true;
  t.advance(hold!.untilAt - t.now());
  const recovered = await t.discover("a");
  assert.equal(recovered.ran, true);
  assert.equal(recovered.error, undefined);
  assert.equal(await t.hold("/a.xml"), undefined, "a source that answers again is no longer held");
  assert.equal((await t.discover("a")).ran, true, "and is read at the next run");
});

Deno.test("a 429 holds every URL of its host, across jobs, until its Retry-After", async () => {
  await using t = await setUp({
    "/a.xml": (_req, hit) =>
      hit === 1 ? reply("slow down", { "retry-after": "600" }, 429) : rss(feed()),
    "/b.xml": () => rss(feed()),
  });
  assert.equal((await t.discover("a")).error?.startsWith("HTTP 429"), true);
  const [host] = (await t.db.sourceHolds()).filter((h) => h.scope === "host");
  assert.equal(host.target, new URL(t.server.origin).host);
  assert.equal(host.untilAt, t.now() + 600_000);
  assert.equal(host.reason, `HTTP 429 from ${t.server.url("/a.xml")} (Retry-After: 600)`);
  assert.equal((await t.hold("/a.xml"))?.untilAt, t.now() + 600_000);

  t.advance(599_999);
  const b = await t.discover("b");
  assert.equal(b.ran, false);
  assert.match(b.note!, /until 2026-01-01T00:10:00\.000Z: HTTP 429 from /);
  assert.equal(t.server.count("/b.xml"), 0, "the other job's URL on the host is not requested");

  t.advance(1);
  assert.equal((await t.discover("b")).ran, true);
  assert.equal((await t.discover("a")).ran, true);
  assert.deepEqual([t.server.count("/a.xml"), t.server.count("/b.xml")], [2, 1]);
});

Deno.test("a 429 stops the rest of the discovery from requesting its host", async () => {
  const children = ["/s1.xml", "/s2.xml", "/s3.xml"];
  const index = children.map((path) => `<sitemap><loc>${path}</loc></sitemap>`).join("");
  await using t = await setUp({
    "/index.xml": () =>
      reply(
        `<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">${index}</sitemapindex>`,
        { "content-type": "application/xml" },
      ),
    "/s1.xml": () => reply("slow down", { "retry-after": "600" }, 429),
    "/s2.xml": () => reply("<urlset/>", { "content-type": "application/xml" }),
    "/s3.xml": () => reply("<urlset/>", { "content-type": "application/xml" }),
  });
  await t.discover("index");
  assert.deepEqual(children.map((path) => t.server.count(path)), [1, 0, 0]);
  const holds = await t.db.sourceHolds();
  assert.deepEqual(holds.map((h) => [h.scope, h.untilAt, h.failures]).sort(), [
    ["host", t.now() + 600_000, 0],
    ["url", t.now() + 600_000, 1],
  ]);
  assert.equal(
    (await t.hold("/s2.xml")) ?? (await t.hold("/s3.xml")),
    undefined,
    "a URL left alone for its host's sake gets no backoff of its own",
  );
});

Deno.test("Cache-Control max-age and RSS ttl make the next discovery wait", async () => {
  await using t = await setUp({
    "/a.xml": () => rss(feed(), { "cache-control": "public, max-age=300" }),
    "/b.xml": () => rss(feed("<ttl>60</ttl>")),
  });
  assert.equal((await t.discover("a")).ran, true);
  assert.deepEqual(
    [(await t.hold("/a.xml"))?.untilAt, (await t.hold("/a.xml"))?.reason],
    [t.now() + 300_000, "public, max-age=300"],
  );
  assert.equal((await t.discover("b")).ran, true);
  assert.deepEqual(
    [(await t.hold("/b.xml"))?.untilAt, (await t.hold("/b.xml"))?.reason],
    [t.now() + 60 * MINUTE, "ttl: 60"],
  );
  t.advance(299_999);
  assert.equal((await t.discover("a")).ran, false);
  t.advance(1);
  assert.equal((await t.discover("a")).ran, true);
  assert.equal((await t.discover("b")).ran, false);
  t.advance(60 * MINUTE);
  assert.equal((await t.discover("b")).ran, true);
  assert.deepEqual([t.server.count("/a.xml"), t.server.count("/b.xml")], [2, 2]);
});

Deno.test("RSS skipHours and skipDays are left out whenever they come round", async () => {
  // Thursday 1 January 2026, 01:30 UTC; the feed skips hours 2 and 3 and Saturdays.
  const start = Date.UTC(2026, 0, 1, 1, 30);
  await using t = await setUp({
    "/a.xml": () =>
      rss(feed(
        "<skipHours><hour>2</hour><hour>3</hour></skipHours><skipDays><day>Saturday</day></skipDays>",
      )),
  }, start);
  assert.equal((await t.discover("a")).ran, true);
  assert.deepEqual((await t.hold("/a.xml"))?.skipHours, [2, 3]);
  assert.deepEqual((await t.hold("/a.xml"))?.skipDays, [6]);
  t.advance(40 * MINUTE); // 02:10
  const skipped = await t.discover("a");
  assert.equal(skipped.ran, false);
  assert.match(skipped.note!, /until 2026-01-01T04:00:00\.000Z: skip-hours: 2,3, skip-days: 6$/);
  t.advance(110 * MINUTE); // 04:00
  assert.equal((await t.discover("a")).ran, true);
  t.advance(Date.UTC(2026, 0, 3, 12) - t.now()); // Saturday noon
  assert.match((await t.discover("a")).note!, /until 2026-01-04T00:00:00\.000Z/);
  assert.equal(t.server.count("/a.xml"), 2);
});

Deno.test("wake clears a job's holds and those of its host: the next discovery reads at once", async () => {
  await using t = await setUp({
    "/a.xml": (_req, hit) =>
      hit === 1 ? reply("slow down", { "retry-after": "3600" }, 429) : rss(feed()),
  });
  await t.discover("a");
  assert.equal((await t.db.sourceHolds()).length, 2);
  assert.equal((await t.discover("a")).ran, false);
  await t.db.wakeJob("a", t.now());
  assert.deepEqual(await t.db.sourceHolds(), []);
  const woken = await t.discover("a");
  assert.equal(woken.ran, true);
  assert.equal(woken.error, undefined);
  assert.equal(t.server.count("/a.xml"), 2);
});

Deno.test("a 503's Retry-After longer than the backoff is what the source waits", async () => {
  await using t = await setUp({
    "/a.xml": () => reply("maintenance", { "retry-after": "7200" }, 503),
  });
  await t.discover("a");
  const hold = await t.hold("/a.xml");
  assert.deepEqual([hold?.failures, hold?.untilAt, hold?.reason], [
    1,
    t.now() + 7_200_000,
    "failed once; retry-after: 7200",
  ]);
  assert.equal((await t.db.sourceHolds()).length, 1, "only a 429 holds the host");
});

Deno.test("Expires counts from the server's Date, not from this machine's clock", async () => {
  await using t = await setUp({
    "/a.xml": () =>
      rss(feed(), {
        date: "Mon, 01 Jun 2026 08:00:00 GMT",
        expires: "Mon, 01 Jun 2026 08:10:00 GMT",
      }),
  });
  await t.discover("a");
  const hold = await t.hold("/a.xml");
  assert.deepEqual([hold?.untilAt, hold?.reason], [
    t.now() + 600_000,
    "expires: Mon, 01 Jun 2026 08:10:00 GMT",
  ]);
});

Deno.test("a held URL among a job's feeds is left alone as unchanged; the others are read", async () => {
  let aFails = true;
  await using t = await setUp({
    "/a.xml": () => aFails ? reply("down", {}, 503) : rss(feed()),
    "/b.xml": () => rss(feed().replaceAll("post-1", "post-2")),
  });
  assert.match((await t.discover("both")).error!, /^HTTP 503 /);
  t.advance(30_000);
  const partly = await t.discover("both");
  assert.deepEqual([partly.ran, partly.error, partly.found], [true, undefined, 1]);
  assert.deepEqual([t.server.count("/a.xml"), t.server.count("/b.xml")], [1, 1]);
  aFails = false;
  t.advance(30_000);
  assert.equal((await t.discover("both")).found, 2, "read again once its backoff ended");
  assert.equal(await t.hold("/a.xml"), undefined);
});

Deno.test("a dry run reads a held source and leaves its hold as it was", async () => {
  await using t = await setUp({
    "/a.xml": (_req, hit) => hit === 1 ? reply("down", {}, 503) : rss(feed()),
  });
  await t.discover("a");
  const before = await t.db.sourceHolds();
  const dry = await t.discover("a", "dry_run");
  assert.deepEqual([dry.ran, dry.found, dry.error], [true, 1, undefined]);
  assert.equal(t.server.count("/a.xml"), 2);
  assert.deepEqual(await t.db.sourceHolds(), before);
});

Deno.test("a held source the job no longer reads is forgotten a day after its hold ended", async () => {
  await using t = await setUp({ "/a.xml": () => rss(feed()), "/b.xml": () => rss(feed()) });
  const gone = {
    scope: "url" as const,
    target: t.server.url("/gone.xml"),
    host: new URL(t.server.origin).host,
    failures: 4,
    untilAt: t.now() + 60_000,
    reason: "failed 4 times in a row",
    error: "HTTP 500 from the gone sitemap",
    skipHours: [],
    skipDays: [],
    updatedAt: t.now(),
  };
  const others = { ...gone, target: t.server.url("/theirs.xml"), jobId: "b" };
  await t.db.saveSourceHolds({ put: [{ ...gone, jobId: "a" }, others], clear: [] });
  t.advance(60_000 + BACKOFF_MAX_MS);
  await t.discover("a");
  assert.equal((await t.db.sourceHolds()).length, 2, "kept until a day has passed");
  t.advance(1);
  await t.discover("a");
  assert.deepEqual(await t.db.sourceHolds(), [others], "another job's hold stays");
});

Deno.test("a 429 without Retry-After holds its host for the URL's backoff", async () => {
  await using t = await setUp({ "/a.xml": () => reply("slow down", {}, 429) });
  await t.discover("a");
  const [host, url] = await t.db.sourceHolds();
  assert.deepEqual(
    [host.scope, host.untilAt, host.reason],
    ["host", t.now() + 60_000, `HTTP 429 from ${t.server.url("/a.xml")}`],
  );
  assert.deepEqual([url.scope, url.failures, url.untilAt], ["url", 1, t.now() + 60_000]);
});
