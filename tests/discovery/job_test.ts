import assert from "node:assert/strict";

import { JobDiscovery, schema } from "../../src/discovery/job.ts";
import { type TestEnv, testEnv } from "./_server.ts";

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
  assert.deepEqual({ ...result, items: [...result.items] }, {
    notModified: false,
    validators: [],
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
