import { deepStrictEqual as assertEquals, equal } from "node:assert/strict";
import { join } from "node:path";
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

Deno.test("jobctl reprocess --stage --dry-run counts items and estimates the cost, changing nothing", async () => {
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

Deno.test("jobctl reprocess --stale resets the stale stage and every later one", async () => {
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

Deno.test("jobctl reprocess needs --stale or --stage and a known stage: exit 2", async () => {
  await using w = await workspace({ seed: false });
  const cases: [string[], string][] = [
    [
      ["reprocess", "-j", "feed"],
      "jobctl reprocess needs --stale or --stage S: jobctl reprocess -j JOB --stale\n",
    ],
    [
      ["reprocess", "-j", "feed", "--stage", "nope"],
      'Unknown stage "nope" of job "feed"; its stages: fetch, parse, store\n',
    ],
    [["reprocess", "--stale"], "jobctl reprocess needs a job: jobctl reprocess -j JOB\n"],
  ];
  for (const [args, message] of cases) {
    const out = await jobs(w.dir, args);
    assertEquals([out.code, out.stdout, out.stderr], [2, "", message]);
  }
});

Deno.test("jobctl reprocess --dry-run after an earlier reprocess estimates from the latest pass", async () => {
  await using w = await workspace({ seed: false });
  const keys = ["a", "b", "c", "d", "e", "f"].map((key) => `{ key: ${key} }`).join(", ");
  await Deno.writeTextFile(
    join(w.dir, "jobs.yaml"),
    `jobs:
  feed:
    discovery: { strategy: static, items: [${keys}] }
    stages:
      - name: fetch
        handler: ./fetch.ts
      - name: summarize
        handler: ./summarize.ts
`,
  );
  await Deno.writeTextFile(join(w.dir, "fetch.ts"), "export default () => ({});\n");
  const summarize = (usd: number) =>
    `export default (_item, ctx) => { ctx.cost(${usd}); return { ok: true }; };\n`;
  await Deno.writeTextFile(join(w.dir, "summarize.ts"), summarize(0.25));
  const runOnce = async () => {
    const out = await jobs(w.dir, ["run"]);
    equal(out.code, 0, out.stderr);
  };
  await runOnce();
  // A cheaper summarize since: the first reprocess costs $0.10 an item.
  await Deno.writeTextFile(join(w.dir, "summarize.ts"), summarize(0.1));
  const reset = await jobs(w.dir, ["reprocess", "-j", "feed", "--stage", "summarize"]);
  equal(reset.code, 0, reset.stderr);
  await runOnce();
  const dry = await jobs(w.dir, ["reprocess", "-j", "feed", "--stage", "summarize", "--dry-run"]);
  // Not $2.10 = 6 × $0.35 (all $2.10 of history over 6 items): the latest pass, $0.10 an item.
  equal(
    dry.stdout,
    "Would reset 6 items of feed from stage summarize (summarize)\n" +
      "Estimated cost: $0.60 = 6 items × $0.10 per item (summarize $0.10)\n",
  );
  // It is what the reprocess then costs.
  const db = await openDb(w.dbPath);
  try {
    const spent = async () =>
      (await db.getCostsByDay({ jobId: "feed", days: 1 })).reduce((n, r) => n + r.usd, 0);
    const before = await spent();
    equal((await jobs(w.dir, ["reprocess", "-j", "feed", "--stage", "summarize"])).code, 0);
    await runOnce();
    equal(Math.round((await spent() - before) * 1e6) / 1e6, 0.6);
  } finally {
    await db.close();
  }
});
