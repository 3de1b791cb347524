import type { Store } from "../../src/db/store.ts";
/** A store with some of everything, built through the store's API, for copy and migrate tests. */

/** The seeded job's stages. */
export const SEED_STAGES = ["fetch", "parse", "store"];

/**
 * Job "news", 40 items: fetch done for 30, failed for 4, waiting for a retry for 1, skipped for
 * 2 and held by a run for 3; parse done for 20 and held for 5; store done for 10 with a handler
 * version that is now stale. Job "other": 5 pending items, paused. Costs, a note, a wake, a job
 * run, a registered run and an HTTP cache entry. Times are fixed from `start`.
 */
export async function seedStore(db: Store, start = Date.UTC(2026, 2, 1)): Promise<void> {
  let t = start;
  const now = () => t;
  const tick = () => void (t += 1000);
  const items = Array.from({ length: 40 }, (_, i) => ({
    key: `item-${i}`,
    data: { url: `https://example.org/${i}`, title: `Ünïcode "${i}"`, n: i },
  }));
  await db.upsertItems({ jobId: "news", stages: SEED_STAGES, items, now });
  await db.upsertItems({ jobId: "other", stages: ["only"], items: items.slice(0, 5), now });
  await db.registerRun({ runId: "seed-run", host: "seed-host", pid: 4242, now });
  const claim = (stage: string, limit: number) =>
    db.claimBatch({ jobId: "news", stage, runId: "seed-run", limit, leaseMs: 600_000, now });
  const done = (claims: { itemId: number; stage: string; position: number }[], v = "1") =>
    db.markDone({
      jobId: "news",
      runId: "seed-run",
      items: claims.map((c) => ({
        ...c,
        result: { from: c.stage, id: c.itemId },
        handlerVersion: v,
      })),
      now,
    });
  const fetch = await claim("fetch", 40);
  tick();
  await db.markFailed({
    jobId: "news",
    runId: "seed-run",
    items: fetch.slice(30, 35).map((c) => ({
      itemId: c.itemId,
      stage: "fetch",
      error: `HTTP 500 from https://example.org/${c.itemId}`,
      permanent: c.itemId !== fetch[34].itemId,
      retries: 2,
      backoffMs: 1000,
    })),
    now,
    random: () => 0.5,
  });
  await db.markSkipped({
    jobId: "news",
    runId: "seed-run",
    items: fetch.slice(35, 37).map((c) => ({ ...c, reason: "not an article" })),
    now,
  });
  await done(fetch.slice(0, 30));
  tick();
  const parse = await claim("parse", 25);
  await done(parse.slice(0, 20));
  tick();
  await done(await claim("store", 10), "0");
  await db.setHandlerVersion({ jobId: "news", stage: "store", version: "1" });
  await db.logCost({ jobId: "news", itemId: parse[0].itemId, stage: "parse", usd: 0.125, ts: t });
  await db.logCost({
    jobId: "news",
    stage: "parse",
    usd: 0.5,
    meta: { model: "m" },
    ts: t - 86_400_000,
  });
  await db.logEvent({
    jobId: "news",
    kind: "note",
    message: "seeded",
    data: { a: [1, 2] },
    ts: t,
  });
  await db.wakeJob("news", t);
  await db.markJobRun({ jobId: "news", now: t });
  await db.setJobPaused({ jobId: "other", paused: true, reason: "budget", now });
  await db.putHttpCache({
    jobId: "news",
    url: "https://example.org/feed",
    optionsHash: "0123456789abcdef",
    etag: '"abc"',
    checkedAt: t,
  });
  await db.saveSourceHolds({
    put: [{
      scope: "url",
      target: "https://example.org/feed",
      host: "example.org",
      jobId: "news",
      failures: 2,
      untilAt: t + 120_000,
      reason: "failed 2 times in a row",
      error: "HTTP 503 Service Unavailable from https://example.org/feed",
      skipHours: [1, 2],
      skipDays: [0],
      updatedAt: t,
    }],
    clear: [],
  });
}
