/**
 * A database the program cannot use (damaged, locked, full, newer, unreachable) is exit 3 and
 * one line naming the database and the reason, never a stack trace; nothing recorded is lost.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { jobs, workspace } from "./_seed.ts";
import { openDb } from "../../src/db/mod.ts";
import { TEST_PG_URL } from "../db/_helpers.ts";

const ON_SQLITE = { ignore: TEST_PG_URL !== undefined };

/** Asserts exit 3 and a single line of stderr matching `pattern`. */
function assertStoreFailure(out: { code: number; stderr: string }, pattern: RegExp): void {
  const lines = out.stderr.trimEnd().split("\n");
  assertEquals([out.code, lines.length], [3, 1], out.stderr);
  assert(pattern.test(lines[0]), lines[0]);
  assert(!/internal error|\n\s+at /.test(out.stderr), out.stderr);
}

Deno.test("a damaged database makes status and pause exit 3 with one line", ON_SQLITE, async () => {
  await using w = await workspace();
  // Every page after the first (the header and the schema) is overwritten.
  const { size } = await Deno.stat(w.dbPath);
  const file = await Deno.open(w.dbPath, { write: true });
  await file.seek(4096, Deno.SeekMode.Start);
  await file.write(new Uint8Array(size - 4096).fill(0x5a));
  file.close();
  for (const args of [["status"], ["pause", "-j", "feed"], ["items", "-j", "feed"]]) {
    const out = await jobs(w.dir, args);
    assertStoreFailure(out, /^Cannot .*database ".*jobs\.sqlite".*(damaged|malformed)/);
  }
});

Deno.test(
  "a database newer than the program makes a command exit 3 with one line",
  ON_SQLITE,
  async () => {
    await using w = await workspace();
    const conn = new DatabaseSync(w.dbPath);
    conn.exec("PRAGMA user_version = 99");
    conn.close();
    const out = await jobs(w.dir, ["pause", "-j", "feed"]);
    assertStoreFailure(out, /has schema version 99, newer than this program's \d+: upgrade jobctl/);
  },
);

Deno.test(
  "a database another process keeps locked makes pause exit 3 with one line, losing nothing",
  ON_SQLITE,
  async () => {
    await using w = await workspace();
    const holder = new DatabaseSync(w.dbPath);
    holder.exec("BEGIN IMMEDIATE");
    let out;
    try {
      out = await jobs(w.dir, ["pause", "-j", "feed", "--reason", "later"]);
    } finally {
      holder.exec("ROLLBACK");
      holder.close();
    }
    assertStoreFailure(
      out,
      /^Cannot change the job's pause: database ".*jobs\.sqlite" is locked by another process/,
    );
    const db = await openDb(w.dbPath);
    try {
      assertEquals((await db.getJobState("feed")).paused, false);
      assertEquals((await db.stageStats("feed")).map((s) => s.done), [8, 5, 3]);
    } finally {
      await db.close();
    }
  },
);

Deno.test(
  "a disk that fills during a run is exit 3 with one line; the next run finishes every item once",
  { ignore: ON_SQLITE.ignore || Deno.uid() !== 0 },
  async () => {
    await using w = await workspace({ seed: false });
    const disk = join(w.dir, "disk");
    await Deno.mkdir(disk);
    const mounted = await new Deno.Command("mount", {
      args: ["-t", "tmpfs", "-o", "size=8m", "tmpfs", disk],
    }).output();
    assert(mounted.success, new TextDecoder().decode(mounted.stderr));
    try {
      const items = Array.from({ length: 20 }, (_, i) => `{ key: k${i} }`).join(", ");
      await Deno.writeTextFile(
        join(w.dir, "jobs.yaml"),
        `db: ${disk}/jobs.sqlite
jobs:
  big:
    discovery: { strategy: static, items: [${items}] }
    handler: ./big.ts
`,
      );
      await Deno.writeTextFile(
        join(w.dir, "big.ts"),
        `export default (item) => ({ key: item.key, text: "x".repeat(100_000) });\n`,
      );
      // Most of the disk is taken by something else; the store fills what is left.
      await Deno.writeFile(join(disk, "filler"), new Uint8Array(7 * 1024 * 1024));
      const full = await jobs(w.dir, ["run"]);
      assertStoreFailure(full, /^Cannot .*database ".*jobs\.sqlite" cannot grow: the disk is full/);
      await Deno.remove(join(disk, "filler"));
      const again = await jobs(w.dir, ["run"]);
      assertEquals(again.code, 0, again.stderr);
      const db = await openDb(`${disk}/jobs.sqlite`);
      try {
        const [stage] = await db.stageStats("big");
        assertEquals([stage.done, stage.pending, stage.inProgress, stage.failed], [20, 0, 0, 0]);
        const detail = await db.getItemDetail({ jobId: "big", key: "k7" });
        assertEquals(detail?.results.map((r) => (r.result as { key: string }).key), ["k7"]);
      } finally {
        await db.close();
      }
    } finally {
      await new Deno.Command("umount", { args: [disk] }).output();
    }
  },
);

Deno.test("a PostgreSQL server that cannot be reached is exit 3 with one line", async () => {
  await using w = await workspace({ seed: false });
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  const url = `postgres://jobs:s3cret@127.0.0.1:${port}/jobs`;
  const out = await jobs(w.dir, ["pause", "-j", "feed", "--db", url]);
  assertStoreFailure(
    out,
    /^Cannot connect to database "postgres:\/\/jobs:\*\*\*@127\.0\.0\.1:\d+\/jobs"/,
  );
  assert(!out.stderr.includes("s3cret"));
});
