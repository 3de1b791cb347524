/**
 * A workspace for the operations command tests: jobs.yaml with two jobs and a database seeded
 * through the store API with known counts, and a way to run the real program in it.
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { openDb } from "../../src/db/mod.ts";
import { testStore } from "../_test_store.ts";
import { outputWithin } from "../_deadline.ts";

const MAIN = fileURLToPath(new URL("../../main.ts", import.meta.url));
const DENO_JSON = fileURLToPath(new URL("../../deno.json", import.meta.url));

/** The flags tests run with, passed on to the child program. */
export const PERMISSIONS = [
  "--allow-read",
  "--allow-write",
  "--allow-net",
  "--allow-env",
  "--allow-run",
  "--allow-sys",
];

export const HOUR = 3_600_000;
export const MINUTE = 60_000;

/** Two jobs: feed (three stages, every 1h, a schedule and a budget) and notes (one stage). */
export const CONFIG = `jobs:
  feed:
    description: Fetch and parse the posts
    discovery:
      strategy: static
      every: 1h
      items: [{ key: k1 }]
    schedule: "*/15 * * * *"
    budget: { daily_usd: 3 }
    stages:
      - name: fetch
        handler: ./fetch.ts
      - name: parse
        handler: ./parse.ts
      - name: store
        handler: ./store.ts
  notes:
    discovery: { strategy: static, items: [{ key: n1 }] }
    handler: ./tag.ts
`;

/** The URL in the data of item kN. */
export function postUrl(n: number): string {
  return `https://example.org/posts/${n}`;
}

/** A temporary folder with jobs.yaml and a store (jobs.sqlite, or a schema on PostgreSQL). */
export interface Workspace extends AsyncDisposable {
  dir: string;
  dbPath: string;
  /** The time the seed is relative to. */
  now: number;
}

/**
 * Seeds feed with 10 items k1…k10 and notes with 2, relative to `now`:
 * - fetch: k1–k4 done 3h ago, k5–k8 done 30m ago (version "1"); k9 failed ("HTTP 500 …");
 *   k10 waiting to retry ("timeout after 30s", run_after = 30m from now).
 * - parse: k1–k3 done with version "1" (stale: the stage's version is "2"), k4–k5 done with "2",
 *   k6 skipped ("too short"), k7 failed ("Cannot parse JSON at line 3"), k8 in progress.
 * - store: k1–k3 done 2m ago; the rest pending.
 * - costs today: fetch $0.125 × k1–k8, parse $0.25 × k1–k5 ($2.25); yesterday $0.50 (fetch, no item).
 * - feed discovered and ran 30m ago; notes paused 1h ago with reason "disk full".
 * Items: done 3 (k1–k3), failed 2 (k7, k9), in progress 1 (k8), pending 4.
 */
export async function workspace(
  options: { seed?: boolean; sqlite?: boolean } = {},
): Promise<Workspace> {
  const dir = await Deno.makeTempDir({ prefix: "jobs_ops_" });
  const store = await testStore(dir, options);
  STORE_ENV.set(dir, store.env);
  await Deno.writeTextFile(join(dir, "jobs.yaml"), CONFIG);
  const now = Date.now();
  if (options.seed ?? true) await seed(store.location, now);
  return {
    dir,
    dbPath: store.location,
    now,
    async [Symbol.asyncDispose]() {
      STORE_ENV.delete(dir);
      await store.drop();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** The environment that points a program run in a workspace's folder at its store. */
const STORE_ENV = new Map<string, Record<string, string>>();

async function seed(path: string, now: number): Promise<void> {
  const db = await openDb(path);
  const at = (t: number) => () => t;
  const items = Array.from({ length: 10 }, (_, i) => ({
    key: `k${i + 1}`,
    data: { url: postUrl(i + 1), title: `Post ${i + 1}` },
  }));
  await db.upsertItems({
    jobId: "feed",
    stages: ["fetch", "parse", "store"],
    items,
    now: at(now - 5 * HOUR),
  });
  const claim = async (stage: string, limit: number, t: number) =>
    new Map((await db.claimBatch({
      jobId: "feed",
      stage,
      runId: "r1",
      limit,
      leaseMs: 24 * HOUR,
      now: at(t),
    })).map((c) => [c.key, c]));
  const done = async (
    claims: Map<string, { itemId: number; position: number; stage: string }>,
    keys: string[],
    version: string | null,
    t: number,
  ) => {
    await db.markDone({
      jobId: "feed",
      runId: "r1",
      items: keys.map((k) => ({ ...claims.get(k)!, result: { key: k }, handlerVersion: version })),
      now: at(t),
    });
  };
  const fail = async (
    claim: { itemId: number; stage: string },
    error: string,
    permanent: boolean,
    t: number,
  ) => {
    await db.markFailed({
      jobId: "feed",
      runId: "r1",
      items: [{
        itemId: claim.itemId,
        stage: claim.stage,
        error,
        permanent,
        retries: 3,
        backoffMs: HOUR,
      }],
      now: at(t),
      random: () => 0.5,
    });
  };
  const fetch = await claim("fetch", 10, now - 3 * HOUR);
  await done(fetch, ["k1", "k2", "k3", "k4"], "1", now - 3 * HOUR);
  await done(fetch, ["k5", "k6", "k7", "k8"], "1", now - 30 * MINUTE);
  await fail(
    fetch.get("k9")!,
    "HTTP 500 from https://example.org/posts/9",
    true,
    now - 30 * MINUTE,
  );
  await fail(fetch.get("k10")!, "timeout after 30s", false, now - 30 * MINUTE);
  const parse = await claim("parse", 10, now - 20 * MINUTE);
  await done(parse, ["k1", "k2", "k3"], "1", now - 10 * MINUTE);
  await done(parse, ["k4", "k5"], "2", now - 10 * MINUTE);
  await db.markSkipped({
    jobId: "feed",
    runId: "r1",
    items: [{ ...parse.get("k6")!, reason: "too short" }],
    now: at(now - 10 * MINUTE),
  });
  await fail(parse.get("k7")!, "Cannot parse JSON at line 3", true, now - 10 * MINUTE);
  await db.setHandlerVersion({ jobId: "feed", stage: "fetch", version: "1" });
  await db.setHandlerVersion({ jobId: "feed", stage: "parse", version: "2" });
  const store = await claim("store", 3, now - 5 * MINUTE);
  await done(store, ["k1", "k2", "k3"], null, now - 2 * MINUTE);
  for (let i = 1; i <= 8; i++) {
    await db.logCost({
      jobId: "feed",
      itemId: fetch.get(`k${i}`)!.itemId,
      stage: "fetch",
      usd: 0.125,
      ts: now,
    });
  }
  for (let i = 1; i <= 5; i++) {
    await db.logCost({
      jobId: "feed",
      itemId: fetch.get(`k${i}`)!.itemId,
      stage: "parse",
      usd: 0.25,
      ts: now,
    });
  }
  await db.logCost({ jobId: "feed", stage: "fetch", usd: 0.5, ts: now - 24 * HOUR });
  await db.acquireDiscoveryLease({
    jobId: "feed",
    owner: "r1",
    leaseMs: MINUTE,
    now: at(now - 30 * MINUTE),
  });
  await db.finishDiscovery({
    jobId: "feed",
    owner: "r1",
    succeeded: true,
    now: at(now - 30 * MINUTE),
  });
  await db.markJobRun({ jobId: "feed", now: now - 30 * MINUTE });
  await db.upsertItems({
    jobId: "notes",
    stages: ["tag"],
    items: [{ key: "n1", data: {} }, { key: "n2", data: {} }],
    now: at(now - 5 * HOUR),
  });
  await db.setJobPaused({
    jobId: "notes",
    paused: true,
    reason: "disk full",
    now: at(now - HOUR),
  });
  await db.close();
}

/** What a run of the program printed and returned. */
export interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `jobctl ARGS` in `dir` and waits for it. */
export async function jobs(dir: string, args: string[]): Promise<Outcome> {
  const child = command(dir, args).spawn();
  const { code, stdout, stderr } = await outputWithin(child, `jobctl ${args.join(" ")}`);
  return { code, stdout, stderr };
}

/** `jobctl ARGS` in `dir` as a command to spawn. */
export function command(dir: string, args: string[]): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "--config", DENO_JSON, ...PERMISSIONS, MAIN, ...args],
    cwd: dir,
    env: { NO_COLOR: "1", ...STORE_ENV.get(dir) },
    stdout: "piped",
    stderr: "piped",
  });
}
