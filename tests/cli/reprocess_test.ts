import { deepStrictEqual as assertEquals, equal } from "node:assert/strict";
import { openDb } from "../../src/db/mod.ts";

import { jobs, workspace } from "./_seed.ts";

async function counts(dbPath: string): Promise<number[][]> {
  const db = await openDb(dbPath);
  try {
    return (await db.stageStats("feed")).map((s) => [s.pending, s.inProgress, s.done]);
  } finally {
    await db.close();
  }
}

Deno.test("jobs reprocess --stage --dry-run counts items and estimates the cost, changing nothing", async () => {
  await using w = await workspace();
  const before = await counts(w.dbPath);
  const out = await jobs(w.dir, [
    "reprocess",
    "-j",
    "feed",
    "--stage",
    "parse",
    "--dry-run",
    "--json",
  ]);
  equal(out.code, 0, out.stderr);
  // k1–k8 went through parse; parse costs $0.25 per item, store nothing.
  assertEquals(JSON.parse(out.stdout), {
    jobId: "feed",
    dryRun: true,
    items: 8,
    fromStage: "parse",
    stages: [{ stage: "parse", usdPerItem: 0.25 }, { stage: "store", usdPerItem: 0 }],
    estimatedUsd: 2,
  });
  const text = await jobs(w.dir, ["reprocess", "-j", "feed", "--stage", "fetch", "--dry-run"]);
  equal(
    text.stdout,
    "Would reset 9 items of feed from stage fetch (fetch, parse, store)\n" +
      "Estimated cost: $3.375 = 9 items × $0.375 per item (fetch $0.125, parse $0.25, store $0.00)\n",
  );
  assertEquals(await counts(w.dbPath), before);
});

Deno.test("jobs reprocess --stale resets the stale stage and every later one", async () => {
  await using w = await workspace();
  const dry = await jobs(w.dir, ["reprocess", "-j", "feed", "--stale", "--dry-run"]);
  equal(
    dry.stdout,
    "Would reset 3 items of feed from stage parse (parse, store)\n" +
      "Estimated cost: $0.75 = 3 items × $0.25 per item (parse $0.25, store $0.00); " +
      "at most, as some items are stale only at a later stage\n",
  );
  const out = await jobs(w.dir, ["reprocess", "-j", "feed", "--stale"]);
  assertEquals([out.code, out.stdout], [
    0,
    "Reset 3 items of feed from stage parse (parse, store); the next run processes them\n",
  ]);
  // k1–k3 lose parse and store; fetch stays done.
  assertEquals(await counts(w.dbPath), [[1, 0, 8], [5, 1, 2], [10, 0, 0]]);
  const db = await openDb(w.dbPath);
  try {
    assertEquals(await db.getStaleCount({ jobId: "feed" }), {});
  } finally {
    await db.close();
  }
  const again = await jobs(w.dir, ["reprocess", "-j", "feed", "--stale"]);
  equal(again.stdout, "No items of feed have stale results: nothing to reprocess\n");
});

Deno.test("jobs reprocess needs --stale or --stage and a known stage: exit 2", async () => {
  await using w = await workspace({ seed: false });
  const cases: [string[], string][] = [
    [
      ["reprocess", "-j", "feed"],
      "jobs reprocess needs --stale or --stage S: jobs reprocess -j JOB --stale\n",
    ],
    [
      ["reprocess", "-j", "feed", "--stage", "nope"],
      'Unknown stage "nope" of job "feed"; its stages: fetch, parse, store\n',
    ],
    [["reprocess", "--stale"], "jobs reprocess needs a job: jobs reprocess -j JOB\n"],
  ];
  for (const [args, message] of cases) {
    const out = await jobs(w.dir, args);
    assertEquals([out.code, out.stdout, out.stderr], [2, "", message]);
  }
});
