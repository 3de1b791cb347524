import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { outputWithin, PROCESS_DEADLINE_MS, withDeadline } from "../_deadline.ts";
import { makeItems, resultOf, tempDb } from "./_helpers.ts";

const WORKERS = 3;
const ITEMS = 2000;
const STAGES = ["a", "b"];

function spawnWorker(path: string, dir: string, runId: string): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--allow-net",
      "--allow-sys",
      new URL("./_claim_worker.ts", import.meta.url).pathname,
      path,
      "--job=j",
      `--run=${runId}`,
      `--stages=${STAGES.join(",")}`,
      "--batch=16",
      `--ready=${dir}/ready-${runId}`,
      `--start=${dir}/start`,
    ],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

async function waitForFiles(paths: string[]): Promise<void> {
  for (const path of paths) {
    await withDeadline(`the file ${path}`, PROCESS_DEADLINE_MS, async () => {
      while (!(await Deno.stat(path).then(() => true, () => false))) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    });
  }
}

Deno.test("separate processes claiming at once never share an (item, stage) and lose none", async () => {
  await using t = await tempDb();
  await t.db.upsertItems({ jobId: "j", stages: STAGES, items: makeItems(ITEMS) });
  const runs = Array.from({ length: WORKERS }, (_, i) => `w${i + 1}`);
  const children = runs.map((run) => spawnWorker(t.path, t.dir, run));
  await waitForFiles(runs.map((run) => `${t.dir}/ready-${run}`));
  await Deno.writeTextFile(`${t.dir}/start`, "go");
  const outputs = await Promise.all(
    children.map((child, i) => outputWithin(child, `claiming process ${runs[i]}`)),
  );

  const claimedBy = new Map<string, string[]>();
  const perWorker: number[] = [];
  outputs.forEach((out, i) => {
    assertEquals(out.code, 0, out.stderr);
    const lines = out.stdout.split("\n").filter(Boolean);
    perWorker.push(lines.length);
    for (const line of lines) {
      const { item, stage, attempts } = JSON.parse(line);
      assertEquals(attempts, 1);
      const key = `${item}/${stage}`;
      claimedBy.set(key, [...(claimedBy.get(key) ?? []), runs[i]]);
    }
  });
  const twice = [...claimedBy].filter(([, by]) => by.length > 1);
  assertEquals(twice, []);
  assertEquals(claimedBy.size, ITEMS * STAGES.length);
  assertEquals(perWorker.reduce((a, b) => a + b), ITEMS * STAGES.length);
  // The work really was shared: every process got claims.
  assert(perWorker.every((n) => n > 0), `claims per worker: ${perWorker}`);

  const items = await t.db.listItems({ jobId: "j", limit: ITEMS + 1 });
  assertEquals(items.length, ITEMS);
  for (const item of items) {
    assertEquals(item.status, "done");
    assertEquals(item.stages.map((s) => [s.stage, s.status, s.attempts]), [
      ["a", "done", 1],
      ["b", "done", 1],
    ]);
  }
  const stats = await t.db.getJobStats("j");
  assertEquals(stats.items, { total: ITEMS, done: ITEMS, failed: 0, in_progress: 0, pending: 0 });
  // Each result was written by the worker that printed the claim.
  const [first] = items;
  const result = await resultOf(t.db, first.id, "b");
  assertEquals(result?.result, { by: claimedBy.get(`${first.id}/b`)![0] });
});
