/**
 * A run whose claim was taken by another run (its lease ran out while its handler blocked the
 * process) records nothing for it, and its summary counts only what it recorded. On PostgreSQL
 * too when JOBS_TEST_PG_URL is set.
 */
import assert from "node:assert/strict";
import { EXIT } from "../../src/cli/mod.ts";
import { tempDb } from "../db/_helpers.ts";
import { exited, startJobs, statusMap, waitFor, Workspace } from "./_helpers.ts";

// The first call (while "block" exists) blocks its whole process until "go" appears: no timer,
// so no heartbeat, runs meanwhile. Every call logs the pid that made it.
const HANDLER = `const here = (name) => new URL("./" + name, import.meta.url);
const exists = (name) => { try { Deno.statSync(here(name)); return true; } catch { return false; } };
export default function handle(item) {
  Deno.writeTextFileSync(here("calls.log"), Deno.pid + "\\n", { append: true });
  if (exists("block")) {
    Deno.removeSync(here("block"));
    Deno.writeTextFileSync(here("blocked"), "");
    while (!exists("go")) { /* holds the process */ }
  }
  return { by: Deno.pid };
}
`;

Deno.test("a run that lost its claim to another run counts nothing for it in its summary", async () => {
  await using t = await tempDb();
  await using ws = await Workspace.create({
    "h.ts": HANDLER,
    block: "",
    "jobs.yaml": `db: "${t.path}"
runner: { lease: 300ms }
jobs:
  j:
    discovery: { strategy: static, items: [{ key: a }] }
    stages:
      - { name: s, handler: ./h.ts, retries: 0 }
`,
  });
  const first = startJobs(ws, ["run"]);
  await waitFor("the first run's handler to block", () => exists(ws.path("blocked")));
  await waitFor(
    "the blocked run's lease to run out",
    async () => (await t.db.heldClaims({ jobId: "j" })).length === 0,
  );
  const second = await ws.jobs(["run"]);
  assert.equal(second.code, EXIT.ok, second.stderr);
  assert.match(second.stderr, /j: discovered 1 \(0 new, 0 updated\); s: 1 done, 0 skipped/);
  await Deno.writeTextFile(ws.path("go"), "");
  const status = await exited(first, "the run that lost its claim");
  assert.equal(status.code, EXIT.ok, first.stderr());
  assert.match(first.stderr(), /j: discovered 1 \(1 new, 0 updated\); s: 0 done, 0 skipped/);
  assert.deepEqual(await statusMap(t.db, "j"), { a: "s=done" });
  const calls = await ws.lines("calls.log");
  const [result] = (await t.db.getItemDetail({ jobId: "j", key: "a" }))!.results;
  // The second run's result is the one kept.
  assert.deepEqual([calls.length, result.result], [2, { by: Number(calls[1]) }]);
});

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}
