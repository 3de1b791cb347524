import { getResult } from "../../src/db/store.ts";
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { makeItems, PG_ONLY, tempDb } from "./_helpers.ts";

import { openDb } from "../../src/db/mod.ts";

const ITEMS = 300;
const STAGES = ["a", "b", "c"];
const LEASE_MS = 1500;

interface Worker {
  run: string;
  host: string;
  child: Deno.ChildProcess;
  lines: string[];
  done: Promise<void>;
}

function spawnWorker(
  url: string,
  dir: string,
  run: string,
  host: string,
  extra: string[] = [],
): Worker {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--allow-net",
      "--allow-sys",
      new URL("./_pg_worker.ts", import.meta.url).pathname,
      url,
      "--job=j",
      `--run=${run}`,
      `--host=${host}`,
      `--stages=${STAGES.join(",")}`,
      "--batch=8",
      `--lease-ms=${LEASE_MS}`,
      `--ready=${dir}/ready-${run}`,
      `--start=${dir}/start`,
      ...extra,
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines: string[] = [];
  const done = (async () => {
    let rest = "";
    for await (const text of child.stdout.pipeThrough(new TextDecoderStream())) {
      const parts = (rest + text).split("\n");
      rest = parts.pop()!;
      lines.push(...parts);
    }
  })();
  return { run, host, child, lines, done };
}

async function waitFor(check: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((resolve) => setTimeout(resolve, 5));
}

const exists = (path: string) => Deno.stat(path).then(() => true, () => false);

Deno.test(
  "workers on three hosts complete every (item, stage) exactly once, and a killed one's work after its lease",
  PG_ONLY,
  async () => {
    await using t = await tempDb();
    await t.db.upsertItems({ jobId: "j", stages: STAGES, items: makeItems(ITEMS) });
    const workers = [
      spawnWorker(t.path, t.dir, "w1", "host-a"),
      spawnWorker(t.path, t.dir, "w2", "host-b", ["--die-after=4"]),
      spawnWorker(t.path, t.dir, "w3", "host-c"),
    ];
    const [w1, doomed, w3] = workers;
    await waitFor(async () =>
      (await Promise.all(workers.map((w) => exists(`${t.dir}/ready-${w.run}`)))).every(Boolean)
    );
    await Deno.writeTextFile(`${t.dir}/start`, "go");
    await waitFor(() => doomed.lines.includes("holding"));
    doomed.child.kill("SIGKILL");
    assertEquals((await doomed.child.status).signal, "SIGKILL");
    await doomed.done;
    const held = doomed.lines.slice(doomed.lines.indexOf("holding") + 1)
      .filter((l) => l.startsWith("{")).map((l) =>
        JSON.parse(l) as { item: number; stage: string }
      );
    assertEquals(held.length > 0, true);

    for (const w of [w1, w3]) {
      assertEquals((await w.child.status).code, 0);
      await w.done;
    }
    // Each worker printed what it recorded; the killed one only what it recorded before.
    const recordedBy = new Map<string, string[]>();
    for (const w of workers) {
      const before = w === doomed ? w.lines.slice(0, w.lines.indexOf("holding")) : w.lines;
      assertEquals(before.filter((l) => !l.startsWith("{")), []);
      for (const line of before) {
        const { item, stage } = JSON.parse(line);
        const key = `${item}/${stage}`;
        recordedBy.set(key, [...(recordedBy.get(key) ?? []), w.run]);
      }
    }
    assertEquals([...recordedBy].filter(([, by]) => by.length > 1), []);
    assertEquals(recordedBy.size, ITEMS * STAGES.length);
    assert([w1, w3].every((w) => w.lines.length > held.length), "both survivors did work");

    // The killed worker's claims went back after its lease, never as a dead process: no
    // survivor runs on its host.
    const released = await t.db.getEvents({ kind: "released", limit: 1000 });
    assertEquals(
      released.map((e) => `${e.itemId}/${e.stage}`).sort(),
      held.map((h) => `${h.item}/${h.stage}`).sort(),
    );
    assert(released.every((e) => e.message === "lease expired (claimed by w2)"));
    for (const h of held) {
      const by = recordedBy.get(`${h.item}/${h.stage}`)![0];
      assert(by === "w1" || by === "w3");
      assertEquals((await getResult(t.db, h.item, h.stage))?.result, { by });
    }

    const stats = await t.db.getJobStats("j");
    assertEquals(stats.items, { total: ITEMS, done: ITEMS, failed: 0, in_progress: 0, pending: 0 });
    assertEquals(
      (await t.db.stageStats("j")).map((s) => [s.stage, s.done]),
      STAGES.map((s) => [s, ITEMS]),
    );
  },
);

Deno.test("machines discovering the same items at once make each item once", PG_ONLY, async () => {
  await using t = await tempDb();
  const machines = await Promise.all([1, 2, 3].map(() => openDb(t.path)));
  try {
    // Overlapping batches, in different orders: 0-399, 200-599 and 599…100.
    const batches = [makeItems(400, 0), makeItems(400, 200), makeItems(500, 100).reverse()];
    const counts = await Promise.all(
      machines.map((db, i) => db.upsertItems({ jobId: "j", stages: STAGES, items: batches[i] })),
    );
    assertEquals(counts.reduce((n, c) => n + c.inserted, 0), 600);
    assertEquals(counts.map((c) => c.inserted + c.updated + c.unchanged), [400, 400, 500]);
    assertEquals(counts.reduce((n, c) => n + c.updated, 0), 0);
    assertEquals(
      (await t.db.stageStats("j")).map((s) => [s.stage, s.pending]),
      STAGES.map((s) => [s, 600]),
    );
  } finally {
    await Promise.all(machines.map((db) => db.close()));
  }
});

Deno.test(
  "of machines asking for a job's discovery lease at once, exactly one gets it",
  PG_ONLY,
  async () => {
    await using t = await tempDb();
    const machines = await Promise.all([1, 2, 3, 4, 5].map(() => openDb(t.path)));
    try {
      const taken = await Promise.all(
        machines.map((db, i) =>
          db.acquireDiscoveryLease({ jobId: "j", owner: `m${i}`, leaseMs: 60_000 })
        ),
      );
      assertEquals(taken.filter(Boolean).length, 1);
    } finally {
      await Promise.all(machines.map((db) => db.close()));
    }
  },
);
