import assert from "node:assert/strict";
import { join } from "node:path";
import { loadConfig } from "../../src/config/load.ts";
import type { JobConfig } from "../../src/config/types.ts";
import { openDb } from "../../src/db/mod.ts";
import type { RunContext } from "../../src/runner/context.ts";
import { discoverStep, WATCH_HTTP_EVERY_MS } from "../../src/runner/discover.ts";
import { silentLogger } from "../../src/util/log.ts";
import { fakeClock } from "./_helpers.ts";

/** What discoverStep() takes of the runner settings. */
const RUNNER = { configDir: "/", leaseMs: 60_000 };

const FEED = `<?xml version="1.0"?>
<rss version="2.0"><channel><title>News</title>
  <item><guid>post-1</guid><title>One</title><link>https://example.org/1</link></item>
</channel></rss>`;

/** A feed on 127.0.0.1 that counts its requests, and jobs reading it and a local list. */
async function setUp(): Promise<
  AsyncDisposable & {
    jobs: Record<string, JobConfig>;
    hits(): number;
    ctx: RunContext;
    advance(ms: number): void;
  }
> {
  let hits = 0;
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, () => {
    hits++;
    return new Response(FEED, { headers: { "content-type": "application/rss+xml" } });
  });
  const dir = await Deno.makeTempDir({ prefix: "jobctl_discover_" });
  await Deno.writeTextFile(
    join(dir, "jobs.yaml"),
    `jobs:
  feed:
    discovery: { strategy: rss, url: "http://127.0.0.1:${server.addr.port}/feed.xml" }
    handler: builtin:fetch
  hourly:
    discovery: { strategy: rss, url: "http://127.0.0.1:${server.addr.port}/feed.xml", every: 1h }
    handler: builtin:fetch
  local:
    discovery: { strategy: static, items: [{ key: a }] }
    handler: builtin:fetch
`,
  );
  const config = await loadConfig(join(dir, "jobs.yaml"));
  const db = await openDb(join(dir, "jobs.sqlite"));
  const clock = fakeClock();
  const ctx: RunContext = {
    mode: "production",
    db,
    runId: "watch-test",
    log: silentLogger,
    signal: new AbortController().signal,
    discoverOnly: false,
    singlePass: false,
    now: clock.now,
  };
  return {
    jobs: Object.fromEntries(config.jobs.map((j) => [j.id, j])),
    hits: () => hits,
    ctx,
    advance: clock.advance,
    async [Symbol.asyncDispose]() {
      await db.close();
      await server.shutdown();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

Deno.test("--watch discovers a feed without discovery.every every 15 minutes, not at every poll", async () => {
  await using t = await setUp();
  const step = async (ctx: RunContext = t.ctx) =>
    (await discoverStep(t.jobs.feed, RUNNER, ctx)).ran;
  assert.equal(await step(), true, "the first discovery runs");
  assert.equal(t.hits(), 1);
  t.advance(5_000);
  assert.equal(await step(), false, "not at the next poll");
  t.advance(WATCH_HTTP_EVERY_MS - 5_001);
  assert.equal(await step(), false, "not before 15 minutes");
  assert.equal(t.hits(), 1);
  t.advance(1);
  assert.equal(await step(), true, "after 15 minutes");
  assert.equal(t.hits(), 2);
  // A single pass (cron) still discovers at every run, and `every` wins over the default.
  t.advance(5_000);
  assert.equal(await step({ ...t.ctx, singlePass: true }), true);
  assert.equal(t.hits(), 3);
  assert.equal(await discoverStep(t.jobs.hourly, RUNNER, t.ctx).then((r) => r.ran), true);
  t.advance(WATCH_HTTP_EVERY_MS);
  assert.equal(await discoverStep(t.jobs.hourly, RUNNER, t.ctx).then((r) => r.ran), false);
  assert.equal(WATCH_HTTP_EVERY_MS, 15 * 60_000);
});

Deno.test("--watch discovers a local source without discovery.every at every poll", async () => {
  await using t = await setUp();
  assert.equal((await discoverStep(t.jobs.local, RUNNER, t.ctx)).ran, true);
  t.advance(5_000);
  assert.equal((await discoverStep(t.jobs.local, RUNNER, t.ctx)).ran, true);
});

Deno.test("a discovery that another run finished while this one waited for the lease is not run again", async () => {
  await using t = await setUp();
  const other: RunContext = { ...t.ctx, runId: "other-run" };
  let otherReport: Awaited<ReturnType<typeof discoverStep>> | undefined;
  // The real store, but the other run's whole discovery happens after this run found the job
  // due and before it takes the discovery lease.
  const db = new Proxy(t.ctx.db, {
    get(store, name) {
      if (name === "acquireDiscoveryLease") {
        return async (options: Parameters<typeof store.acquireDiscoveryLease>[0]) => {
          otherReport = await discoverStep(
            t.jobs.hourly,
            { configDir: "/", leaseMs: 60_000 },
            other,
          );
          return await store.acquireDiscoveryLease(options);
        };
      }
      const value = Reflect.get(store, name, store);
      return typeof value === "function" ? value.bind(store) : value;
    },
  });
  const report = await discoverStep(t.jobs.hourly, { configDir: "/", leaseMs: 60_000 }, {
    ...t.ctx,
    db,
  });
  assert.equal(otherReport?.ran, true, "the other run discovered");
  assert.deepEqual(report, { ran: false, note: "not due", found: 0 });
  assert.equal(t.hits(), 1, "the feed was read once");
  assert.equal((await t.ctx.db.getEvents({ jobId: "hourly", kind: "discovery" })).length, 1);
});
