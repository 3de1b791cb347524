import assert from "node:assert/strict";
import { join } from "node:path";
import { DiscoveryError, hashUrl } from "../../src/discovery/base.ts";
import { JsonlDiscovery, schema } from "../../src/discovery/jsonl.ts";
import { discoverAndRecord, readResult, reply, serveRoutes, testEnv } from "./_server.ts";
import { digest } from "../../src/util/digest.ts";

const LINES = [
  JSON.stringify({ id: "a", date: "2024-05-01T00:00:00Z", tags: ["x"] }),
  "",
  JSON.stringify({ url: "https://b.test/post", date: "2024-04-01T00:00:00Z" }),
  JSON.stringify({ id: 3, nested: { deep: true } }),
].join("\n") + "\n";

Deno.test("jsonl reads one object per line from a file; since compares the date field", async () => {
  await using t = await testEnv({ now: () => Date.parse("2024-05-02T00:00:00Z") });
  await Deno.writeTextFile(join(t.dir, "items.jsonl"), LINES);
  const all = await new JsonlDiscovery(schema.parse({ path: "items.jsonl" }), t.env).discover();
  assert.deepEqual([...all.items], [
    { key: "a", data: { id: "a", date: "2024-05-01T00:00:00Z", tags: ["x"] } },
    {
      key: hashUrl("https://b.test/post"),
      data: { url: "https://b.test/post", date: "2024-04-01T00:00:00Z" },
    },
    { key: "3", data: { id: 3, nested: { deep: true } } },
  ]);
  const recent = await new JsonlDiscovery(schema.parse({ path: "items.jsonl", since: "7d" }), t.env)
    .discover();
  assert.deepEqual([...recent.items].map((i) => i.key), ["a", "3"]);
});

Deno.test("jsonl reads a file again only when its content changed since the job recorded it", async () => {
  await using t = await testEnv({ now: () => 5_000 });
  const path = join(t.dir, "items.jsonl");
  await Deno.writeTextFile(path, LINES);
  const options = schema.parse({ path: "items.jsonl" });
  const first = await discoverAndRecord(new JsonlDiscovery(options, t.env), t.db);
  assert.equal(first.items.length, 3);
  assert.deepEqual(first.validators, [
    { jobId: "test", url: path, optionsHash: "", etag: digest(LINES), checkedAt: 5_000 },
  ]);
  // Touched, the same bytes: not modified.
  await Deno.utime(path, new Date(), new Date());
  const again = await new JsonlDiscovery(options, t.env).discover();
  assert.deepEqual(readResult(again), {
    items: [],
    notModified: true,
    validators: [path],
    warnings: [],
    refetch: [],
    failed: [],
  });
  // Another job, and a run that stores nothing, read it in full.
  const other = new JsonlDiscovery(options, { ...t.env, jobId: "other" });
  assert.equal((await other.discover()).items.length, 3);
  const dry = new JsonlDiscovery(options, { ...t.env, useHttpCache: false });
  assert.deepEqual(readResult(await dry.discover()).validators, []);
  await Deno.writeTextFile(path, LINES + JSON.stringify({ id: "d" }) + "\n");
  const changed = await new JsonlDiscovery(options, t.env).discover();
  assert.deepEqual([...changed.items].map((i) => i.key), [
    "a",
    hashUrl("https://b.test/post"),
    "3",
    "d",
  ]);
});

Deno.test("jsonl reads a gzipped URL and reports a bad line by number", async () => {
  const gz = new Uint8Array(
    await new Response(new Blob([LINES]).stream().pipeThrough(new CompressionStream("gzip")))
      .arrayBuffer(),
  );
  await using server = serveRoutes({
    "/dump.jsonl.gz": () => reply(gz, { "content-type": "application/gzip" }),
    "/bad.jsonl": () => reply('{"id":1}\n{"id":2}\n{"id": 3,\n'),
  });
  await using t = await testEnv();
  const ok = await new JsonlDiscovery(schema.parse({ url: server.url("/dump.jsonl.gz") }), t.env)
    .discover();
  assert.equal(ok.items.length, 3);
  const err = await new JsonlDiscovery(schema.parse({ url: server.url("/bad.jsonl") }), t.env)
    .discover()
    .catch((e) => e);
  assert.ok(err instanceof DiscoveryError);
  assert.match(
    err.message,
    new RegExp(`^Cannot parse JSON at line 3 of ${server.url("/bad.jsonl")}: `),
  );
});

Deno.test("jsonl refuses a file larger than max_bytes, also after gunzip", async () => {
  await using t = await testEnv();
  await Deno.writeTextFile(join(t.dir, "big.jsonl"), LINES);
  const gz = new Uint8Array(
    await new Response(
      new Blob(["{}\n".repeat(1000)]).stream().pipeThrough(new CompressionStream("gzip")),
    )
      .arrayBuffer(),
  );
  await Deno.writeFile(join(t.dir, "big.jsonl.gz"), gz);
  for (
    const [path, what] of [["big.jsonl", "is larger than"], [
      "big.jsonl.gz",
      "decompresses to more than",
    ]]
  ) {
    const options = schema.parse({ path, max_bytes: 100 });
    const err = await new JsonlDiscovery(options, t.env).discover().catch((e) => e);
    assert.ok(err instanceof DiscoveryError);
    assert.equal(
      err.message,
      `Cannot read "${join(t.dir, path)}": it ${what} max_bytes (100 bytes)`,
    );
  }
});

Deno.test("keys that are one key as stored are one item, the first, and the store is told so", async () => {
  await using t = await testEnv();
  // JSON's \ud800 is a lone surrogate, which the store keeps as U+FFFD.
  const lines = ['{"id": "a\\ud800b", "n": 1}', '{"id": "a\\ufffdb", "n": 2}', '{"id": "c"}'];
  await Deno.writeTextFile(join(t.dir, "items.jsonl"), lines.join("\n"));
  const result = await new JsonlDiscovery(schema.parse({ path: "items.jsonl" }), t.env).discover();
  assert.equal(result.items.length, 2);
  assert.deepEqual([...result.items], [
    { key: "a\ufffdb", data: { id: "a\ud800b", n: 1 } },
    { key: "c", data: { id: "c" } },
  ]);
  // As a run records them: told that no key comes twice, the store keeps no set of them.
  const counts = await t.db.upsertItems({
    jobId: "test",
    stages: ["s"],
    items: result.items,
    unique: true,
  });
  assert.deepEqual(counts, { inserted: 2, updated: 0, unchanged: 0 });
  assert.deepEqual((await t.db.getItemDetail({ jobId: "test", key: "a\ufffdb" }))?.data, {
    id: "a\ud800b",
    n: 1,
  });
});
