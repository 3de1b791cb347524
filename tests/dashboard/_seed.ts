/** A small database and jobs.yaml for the dashboard tests, built through the store API. */

import { openDb } from "../../src/db/mod.ts";

/** Two jobs: "feed" with three stages, "notes" with one. */
export const JOBS_YAML = `jobs:
  feed:
    description: Posts of a feed, fetched, parsed and stored
    discovery: { strategy: static, items: [{ key: a }] }
    budget: { daily_usd: 5 }
    stages:
      - { name: fetch, handler: builtin:fetch }
      - { name: parse, handler: ./parse.ts }
      - { name: store, handler: ./store.ts }
  notes:
    discovery: { strategy: static, items: [{ key: b }] }
    handler: ./tag.ts
`;

/** An item key that is markup: every page must show it as text. */
export const HOSTILE_KEY = `<img src=x onerror="document.title='owned'">`;

/** A key with a slash, a space and a question mark, to exercise URL encoding. */
export const PATH_KEY = "posts/2024/hello world?x=1";

/** An error of many words: the failures table must wrap it between words only. */
export const LONG_ERROR = "PermanentError: the tagging service answered that the document " +
  "has no title element, so nothing could be tagged";

/** A word longer than any column: it may break, having no space to wrap at. */
export const LONG_TOKEN = `token=${"Zq".repeat(90)}`;

/** The 60 items of notes, more than a page of the items listing. */
export const NOTE_KEYS = Array.from({ length: 60 }, (_, i) => `n${String(i + 1).padStart(2, "0")}`);

const DAY_MS = 86_400_000;
const FEED_STAGES = ["fetch", "parse", "store"];

/**
 * Seeds `path`: feed has 20 items plus two odd keys; at fetch 3 fail with "HTTP 500 from <url>",
 * 1 fails with a timeout and 1 is skipped; at parse 12 are done and 2 fail; costs today (one of
 * them $0.024999999999999998) and 3 days ago. notes has 60 items: n01 and n02 failed with long
 * errors (LONG_ERROR, and one holding LONG_TOKEN), 58 pending.
 */
export async function seed(path: string, now: number): Promise<void> {
  const db = await openDb(path);
  try {
    const keys = [...Array.from({ length: 20 }, (_, i) => `k${String(i + 1).padStart(2, "0")}`)];
    keys.push(HOSTILE_KEY, PATH_KEY);
    await db.upsertItems({
      jobId: "feed",
      stages: FEED_STAGES,
      items: keys.map((key) => ({ key, data: { url: `https://example.org/${key}` } })),
      now: () => now - DAY_MS,
    });
    await db.upsertItems({
      jobId: "notes",
      stages: ["tag"],
      items: NOTE_KEYS.map((key) => ({ key, data: { key } })),
      now: () => now,
    });
    await runFetch(db, now);
    await runParse(db, now);
    await failNotes(db, now);
    await db.logCost({ jobId: "feed", stage: "parse", usd: 0.25, ts: now });
    await db.logCost({ jobId: "feed", stage: "parse", usd: 0.5, ts: now });
    await db.logCost({ jobId: "feed", stage: "parse", usd: 0.024999999999999998, ts: now });
    await db.logCost({ jobId: "feed", stage: "fetch", usd: 1.25, ts: now - 3 * DAY_MS });
  } finally {
    await db.close();
  }
}

type Store = Awaited<ReturnType<typeof openDb>>;

/** Every claimable row of `stage`, in key order (engines return claims in orders of their own). */
async function claim(db: Store, stage: string, now: number) {
  const claims = await db.claimBatch({
    jobId: "feed",
    stage,
    runId: "seed",
    limit: 100,
    leaseMs: 60_000,
    now: () => now - 2000,
  });
  return claims.sort((a, b) => a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
}

async function runFetch(db: Store, now: number): Promise<void> {
  const claims = await claim(db, "fetch", now);
  const failing = claims.slice(0, 4);
  const skipped = claims[4];
  const done = claims.slice(5);
  await db.markFailed({
    jobId: "feed",
    runId: "seed",
    items: failing.map((c, i) => ({
      itemId: c.itemId,
      stage: "fetch",
      error: i < 3 ? `HTTP 500 from https://example.org/${c.key}` : "Timed out after 30000 ms",
      permanent: true,
      retries: 0,
      backoffMs: 1000,
    })),
    now: () => now,
  });
  await db.markSkipped({
    jobId: "feed",
    runId: "seed",
    items: [{ itemId: skipped.itemId, stage: "fetch", position: 0, reason: "not an article" }],
    now: () => now,
  });
  await db.markDone({
    jobId: "feed",
    runId: "seed",
    items: done.map((c) => ({
      itemId: c.itemId,
      stage: "fetch",
      position: 0,
      result: { bytes: 100 + c.itemId },
      handlerVersion: "1",
    })),
    now: () => now,
  });
}

async function runParse(db: Store, now: number): Promise<void> {
  const claims = await claim(db, "parse", now);
  const failing = claims.slice(0, 2);
  await db.markFailed({
    jobId: "feed",
    runId: "seed",
    items: failing.map((c) => ({
      itemId: c.itemId,
      stage: "parse",
      error: `Cannot parse "${c.key}": no title`,
      permanent: true,
      retries: 0,
      backoffMs: 1000,
    })),
    now: () => now,
  });
  await db.markDone({
    jobId: "feed",
    runId: "seed",
    items: claims.slice(2, 14).map((c) => ({
      itemId: c.itemId,
      stage: "parse",
      position: 1,
      result: { title: `Title of ${c.key}` },
      handlerVersion: "1",
    })),
    now: () => now,
  });
}

async function failNotes(db: Store, now: number): Promise<void> {
  const claims = await db.claimBatch({
    jobId: "notes",
    stage: "tag",
    runId: "seed",
    limit: 2,
    leaseMs: 60_000,
    now: () => now - 2000,
  });
  await db.markFailed({
    jobId: "notes",
    runId: "seed",
    items: claims.map((c, i) => ({
      itemId: c.itemId,
      stage: "tag",
      error: i === 0 ? LONG_ERROR : `Cannot decode ${LONG_TOKEN}`,
      permanent: true,
      retries: 0,
      backoffMs: 1000,
    })),
    now: () => now,
  });
}
