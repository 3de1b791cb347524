import { deepStrictEqual as assertEquals, equal, match } from "node:assert/strict";
import { join } from "node:path";
import { jobs, workspace } from "./_seed.ts";
import { PG_ONLY, scratchSchema, TEST_PG_URL } from "../db/_helpers.ts";
import { redactUrl } from "../../src/util/url.ts";

/** `jobctl status --json` of the workspace's store, or of `db`, without its generation time. */
async function status(dir: string, db?: string): Promise<unknown> {
  const out = await jobs(dir, ["status", "--json", ...(db ? ["--db", db] : [])]);
  equal(out.stderr, "");
  equal(out.code, 0);
  const { generatedAt: _, ...report } = JSON.parse(out.stdout);
  return report;
}

Deno.test(
  "a SQLite store and its PostgreSQL copy give the same jobctl status --json",
  PG_ONLY,
  async () => {
    await using w = await workspace({ sqlite: true });
    const scratch = await scratchSchema(TEST_PG_URL!);
    try {
      const out = await jobs(w.dir, ["migrate", "--to", scratch.url]);
      equal(out.stderr, "");
      equal(out.code, 0);
      equal(
        out.stdout.trim(),
        `Copied ${w.dbPath} to ${redactUrl(scratch.url)}: 12 items, 32 stage rows, 16 results, ` +
          "19 events, 2 job states, 0 runs, 0 cached URLs",
      );
      const before = await status(w.dir);
      assertEquals(await status(w.dir, scratch.url), before);
      // And back: a copy of the copy into a new SQLite file says the same.
      const back = join(w.dir, "back.sqlite");
      const again = await jobs(w.dir, ["migrate", "--db", scratch.url, "--to", back, "--json"]);
      equal(again.code, 0);
      assertEquals(JSON.parse(again.stdout).rows.work_items, 12);
      assertEquals(await status(w.dir, back), before);
    } finally {
      await scratch.drop();
    }
  },
);

Deno.test("jobctl migrate refuses a target that is not empty unless --force", PG_ONLY, async () => {
  await using w = await workspace();
  const scratch = await scratchSchema(TEST_PG_URL!);
  try {
    equal((await jobs(w.dir, ["migrate", "--to", scratch.url])).code, 0);
    const refused = await jobs(w.dir, ["migrate", "--to", scratch.url]);
    equal(refused.code, 2);
    equal(
      refused.stderr.trim(),
      `Database "${redactUrl(scratch.url)}" is not empty; use --force to replace its content`,
    );
    const forced = await jobs(w.dir, ["migrate", "--to", scratch.url, "--force", "--json"]);
    equal(forced.code, 0);
    assertEquals(JSON.parse(forced.stdout).rows.item_stages, 32);
    assertEquals(await status(w.dir, scratch.url), await status(w.dir));
  } finally {
    await scratch.drop();
  }
});

Deno.test("jobctl migrate without --to, or to the store itself, is a usage error", async () => {
  await using w = await workspace({ seed: false });
  const missing = await jobs(w.dir, ["migrate"]);
  equal(missing.code, 2);
  equal(missing.stderr.trim(), "jobctl migrate needs a target: jobctl migrate --to URL|PATH");
  const itself = await jobs(w.dir, ["migrate", "--to", w.dbPath]);
  equal(itself.code, 2);
  match(itself.stderr, /--to names the store itself/);
});
