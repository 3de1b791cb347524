import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { heldClaimFindings } from "../../src/doctor/held_claims.ts";
import { loadConfig } from "../../src/config/load.ts";

import { project } from "./_seed.ts";

const HOUR = 3_600_000;

Deno.test("heldClaimFindings() reports claims held past twice their stage's timeout, by run", async () => {
  await using p = await project(`db: jobs.sqlite
jobs:
  feed:
    discovery: { strategy: static, items: [{ key: a }] }
    stages:
      - { name: fetch, handler: ./handlers/fetch.ts, timeout: 30m }
`);
  const db = await p.open();
  const job = (await loadConfig(p.configPath)).jobs[0];
  const now = Date.UTC(2026, 2, 10, 12);
  const items = ["a", "b", "c", "d"].map((key) => ({ key, data: {} }));
  await db.upsertItems({ jobId: "feed", stages: ["fetch"], items });
  await db.registerRun({ runId: "stuck", host: "box-2", pid: 4711 });
  const claim = (runId: string, limit: number, at: number) =>
    db.claimBatch({
      jobId: "feed",
      stage: "fetch",
      runId,
      limit,
      leaseMs: 10 * HOUR,
      now: () => at,
    });
  await claim("stuck", 2, now - 2 * HOUR);
  // Within twice the timeout: a slow handler, not a stuck one.
  await claim("busy", 2, now - HOUR + 1);
  const findings = await heldClaimFindings(db, job, { now });
  assertEquals(findings.map((f) => [f.id, f.severity, f.job, f.title, f.fix, f.safeFix]), [[
    "claims-held-long",
    "warning",
    "feed",
    'Job "feed": 2 claims of stage "fetch" held by run stuck for 2h',
    "on box-2: kill 4711 (its claims go back to pending when their lease ends)",
    false,
  ]]);
  assertEquals(
    findings[0].explanation.startsWith(
      "The run (pid 4711 on box-2) claimed the oldest at 2026-03-10T10:00:00Z, over 2× the " +
        "stage's timeout of 30m.",
    ),
    true,
  );
  assertEquals((await heldClaimFindings(db, job, { now: now - HOUR })).length, 0);
});
