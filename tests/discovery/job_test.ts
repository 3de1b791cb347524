import assert from "node:assert/strict";

import { JobDiscovery, OVERLAP_MS, schema } from "../../src/discovery/job.ts";
import { discoverAndRecord, readResult, type TestEnv, testEnv } from "./_server.ts";

/** Upstream job "fetch" with stages download → parse; items k1…k4, k1–k3 done at download. */
async function seed(t: TestEnv): Promise<void> {
  const items = ["k1", "k2", "k3", "k4"].map((key) => ({
    key,
    data: { url: `https://a.test/${key}` },
  }));
  await t.db.upsertItems({ jobId: "fetch", stages: ["download", "parse"], items });
  const results: Record<string, unknown> = {
    k1: { path: "/tmp/k1.html", bytes: 10 },
    k2: "plain text",
    k3: [1, 2],
  };
  let clock = 1_000;
  for (const key of ["k1", "k2", "k3"]) {
    const [claim] = await t.db.claimBatch({
      jobId: "fetch",
      stage: "download",
      runId: "run-1",
      limit: 1,
      leaseMs: 60_000,
    });
    assert.equal(claim.key, key);
    clock += 1_000;
    await t.db.markDone({
      jobId: "fetch",
      runId: "run-1",
      now: () => clock,
      items: [{
        itemId: claim.itemId,
        stage: "download",
        position: 0,
        result: results[key],
        handlerVersion: null,
      }],
    });
  }
  await t.db.claimBatch({
    jobId: "fetch",
    stage: "download",
    runId: "run-1",
    limit: 1,
    leaseMs: 60_000,
  });
}

Deno.test("job emits the items another job finished at a stage, with the result as data", async () => {
  await using t = await testEnv({ jobId: "summarise" });
  await seed(t);
  const result = await new JobDiscovery(schema.parse({ job: "fetch", stage: "download" }), t.env)
    .discover();
  assert.deepEqual(readResult(result), {
    notModified: false,
    // Where the next discovery starts reading: the newest finish, k3's.
    validators: ["job:fetch/download"],
    warnings: [],
    refetch: [],
    failed: [],
    items: [
      { key: "k1", data: { path: "/tmp/k1.html", bytes: 10 } },
      { key: "k2", data: { result: "plain text" } },
      { key: "k3", data: { result: [1, 2] } },
    ],
  });
});

Deno.test("job filters by finish time with since and finds nothing at an unfinished stage", async () => {
  await using t = await testEnv({ jobId: "summarise", now: () => 4_500 });
  await seed(t);
  const recent = await new JobDiscovery(
    schema.parse({ job: "fetch", stage: "download", since: "2s" }),
    t.env,
  )
    .discover();
  assert.deepEqual([...recent.items].map((i) => i.key), ["k2", "k3"]);
  assert.equal(recent.validators[0].etag, "4000");
  const none = await new JobDiscovery(schema.parse({ job: "fetch", stage: "parse" }), t.env)
    .discover();
  assert.deepEqual({ ...none, items: [...none.items] }, {
    items: [],
    notModified: false,
    validators: [],
    warnings: [],
    refetch: [],
    failed: [],
  });
});

/** Marks `keys` of job "fetch" done at `stage` at time `at`, as run-1; gives the other claims back. */
async function finishAt(t: TestEnv, stage: string, keys: string[], at: number): Promise<void> {
  const claims = await t.db.claimBatch({
    jobId: "fetch",
    stage,
    runId: "run-1",
    limit: 100,
    leaseMs: 60_000,
  });
  await t.db.markDone({
    jobId: "fetch",
    runId: "run-1",
    now: () => at,
    items: claims.filter((c) => keys.includes(c.key)).map((c) => ({
      itemId: c.itemId,
      stage,
      position: c.position,
      result: { n: Number(c.key.slice(1)) },
      handlerVersion: null,
    })),
  });
  await t.db.releaseClaims({ runId: "run-1" });
}

/** The keys the discovery read, and the mark it keeps for the next one. */
async function readOnce(t: TestEnv, options = {}): Promise<{ keys: string[]; mark?: string }> {
  const discovery = new JobDiscovery(
    schema.parse({ job: "fetch", stage: "download", ...options }),
    { ...t.env, optionsHash: JSON.stringify(options) },
  );
  const result = await discoverAndRecord(discovery, t.db);
  return { keys: [...result.items].map((i) => i.key), mark: result.validators[0]?.etag };
}

Deno.test("job reads, after its first discovery, only what finished since, with a margin", async () => {
  await using t = await testEnv({ jobId: "summarise" });
  const keys = ["k1", "k2", "k3", "k4", "k5", "k6"];
  await t.db.upsertItems({
    jobId: "fetch",
    stages: ["download"],
    items: keys.map((key) => ({ key, data: {} })),
  });
  const hour = 3_600_000;
  await finishAt(t, "download", ["k1", "k2"], 10 * hour);
  await finishAt(t, "download", ["k3"], 11 * hour);
  assert.deepEqual(await readOnce(t), { keys: ["k1", "k2", "k3"], mark: String(11 * hour) });
  // Nothing finished since: the newest finish is read again (the margin), the mark stays.
  assert.deepEqual(await readOnce(t), { keys: ["k3"], mark: String(11 * hour) });
  // k4 finished later; k5 is recorded with a finish just inside the margin (a clock behind, a
  // commit that waited), k6 with one before it.
  await finishAt(t, "download", ["k4"], 12 * hour);
  await finishAt(t, "download", ["k5"], 11 * hour - OVERLAP_MS);
  await finishAt(t, "download", ["k6"], 11 * hour - OVERLAP_MS - 1);
  assert.deepEqual(await readOnce(t), { keys: ["k5", "k3", "k4"], mark: String(12 * hour) });
  // Other options read the upstream job in full once more; so does a dry run, which notes nothing.
  assert.deepEqual(await readOnce(t, { include: "^k" }), {
    keys: ["k1", "k2", "k6", "k5", "k3", "k4"],
    mark: String(12 * hour),
  });
  const dry = new JobDiscovery(schema.parse({ job: "fetch", stage: "download" }), {
    ...t.env,
    optionsHash: "{}",
    useHttpCache: false,
  });
  const dryResult = await dry.discover();
  assert.deepEqual([...dryResult.items].map((i) => i.key), ["k1", "k2", "k6", "k5", "k3", "k4"]);
  assert.deepEqual(dryResult.validators, []);
  // A mark that is no time (a damaged row) reads in full.
  await t.db.putHttpCache({
    jobId: "summarise",
    url: "job:fetch/download",
    optionsHash: "{}",
    etag: "soon",
    checkedAt: 0,
  });
  assert.deepEqual((await readOnce(t)).keys, ["k1", "k2", "k6", "k5", "k3", "k4"]);
  // With a limit the first items are read each time, and no mark is kept.
  assert.deepEqual(await readOnce(t, { limit: 2 }), { keys: ["k1", "k2"], mark: undefined });
  assert.deepEqual(await readOnce(t, { limit: 2 }), { keys: ["k1", "k2"], mark: undefined });
  // The upstream stage is reset: nothing is done there, and the mark is kept as it was.
  await readOnce(t);
  await t.db.reprocessStage({ jobId: "fetch", stage: "download" });
  assert.deepEqual(await readOnce(t), { keys: [], mark: String(12 * hour) });
});
