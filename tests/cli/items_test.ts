import type { ItemListing } from "../../src/db/store.ts";
import { deepStrictEqual as assertEquals, equal } from "node:assert/strict";

import { jobs, workspace } from "./_seed.ts";

async function listed(dir: string, args: string[]): Promise<string[][]> {
  const out = await jobs(dir, ["items", "-j", "feed", "--json", ...args]);
  equal(out.code, 0, out.stderr);
  return (JSON.parse(out.stdout) as ItemListing[]).map((item) => [
    item.key,
    item.status,
    ...item.stages.map((s) => s.status),
  ]);
}

Deno.test("jobs items --json lists every item with its derived status and stages", async () => {
  await using w = await workspace();
  const out = await jobs(w.dir, ["items", "-j", "feed", "--json"]);
  equal(out.code, 0);
  const items: ItemListing[] = JSON.parse(out.stdout);
  assertEquals(items[6], {
    id: items[6].id,
    key: "k7",
    status: "failed",
    stages: [
      { stage: "fetch", status: "done", attempts: 1, error: null },
      { stage: "parse", status: "failed", attempts: 1, error: "Cannot parse JSON at line 3" },
      { stage: "store", status: "pending", attempts: 0, error: null },
    ],
  });
  assertEquals(items.map((i) => [i.key, i.status]), [
    ["k1", "done"],
    ["k2", "done"],
    ["k3", "done"],
    ["k4", "pending"],
    ["k5", "pending"],
    ["k6", "pending"],
    ["k7", "failed"],
    ["k8", "in_progress"],
    ["k9", "failed"],
    ["k10", "pending"],
  ]);
});

Deno.test("jobs items filters by status, by the stage items wait at, by error, with a limit", async () => {
  await using w = await workspace();
  assertEquals(await listed(w.dir, ["--status", "failed"]), [
    ["k7", "failed", "done", "failed", "pending"],
    ["k9", "failed", "failed", "pending", "pending"],
  ]);
  assertEquals(await listed(w.dir, ["--status", "in_progress"]), [
    ["k8", "in_progress", "done", "in_progress", "pending"],
  ]);
  assertEquals((await listed(w.dir, ["--stage", "parse"])).map((r) => r[0]), ["k7", "k8"]);
  assertEquals((await listed(w.dir, ["--stage", "store"])).map((r) => r[0]), ["k4", "k5", "k6"]);
  assertEquals((await listed(w.dir, ["--error", "HTTP 500"])).map((r) => r[0]), ["k9"]);
  assertEquals((await listed(w.dir, ["--status", "pending", "--limit", "2"])).map((r) => r[0]), [
    "k4",
    "k5",
  ]);
});

Deno.test("jobs items prints a table with each stage's status and the error", async () => {
  await using w = await workspace();
  const failed = await jobs(w.dir, ["items", "-j", "feed", "--status", "failed"]);
  equal(failed.code, 0);
  equal(
    failed.stdout,
    "key  status  fetch   parse    store    error\n" +
      "k7   failed  done    failed   pending  Cannot parse JSON at line 3\n" +
      "k9   failed  failed  pending  pending  HTTP 500 from https://example.org/posts/9\n" +
      "\n2 items\n",
  );
  const limited = await jobs(w.dir, ["items", "-j", "feed", "--limit", "1"]);
  equal(
    limited.stdout,
    "key  status  fetch  parse  store  error\n" +
      "k1   done    done   done   done\n" +
      "\n1 item; more may match (--limit 1)\n",
  );
  const none = await jobs(w.dir, ["items", "-j", "notes", "--status", "done"]);
  equal(none.stdout, "No items match\n");
});

Deno.test("jobs items rejects a missing job, an unknown status or stage and a bad limit with exit 2", async () => {
  await using w = await workspace({ seed: false });
  const cases: [string[], string][] = [
    [["items"], "jobs items needs a job: jobs items -j JOB\n"],
    [
      ["items", "-j", "feed", "--status", "stuck"],
      '--status expects one of pending, in_progress, done, failed, got "stuck"\n',
    ],
    [
      ["items", "-j", "feed", "--stage", "nope"],
      'Unknown stage "nope" of job "feed"; its stages: fetch, parse, store\n',
    ],
    [["items", "-j", "feed", "--limit", "0"], '--limit expects a positive whole number, got "0"\n'],
  ];
  for (const [args, message] of cases) {
    const out = await jobs(w.dir, args);
    assertEquals([out.code, out.stdout, out.stderr], [2, "", message]);
  }
});
