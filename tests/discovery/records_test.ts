import assert from "node:assert/strict";
import { join } from "node:path";
import { loadConfig } from "../../src/config/load.ts";
import { BaseDiscovery, type RawItem } from "../../src/discovery/base.ts";
import { recordItems } from "../../src/discovery/_records.ts";
import type { RunContext } from "../../src/runner/context.ts";
import { discoverStep } from "../../src/runner/discover.ts";
import { silentLogger } from "../../src/util/log.ts";
import { testEnv } from "./_server.ts";

const encode = (text: string) => new TextEncoder().encode(text);

Deno.test("JSON lines are read again at each iteration: fresh records, the same items", () => {
  const bytes = encode('\ufeff{"id":"a","n":1}\r\n\n  \n{"url":"https://b.test/","n":2}');
  const records = recordItems(bytes, "items.jsonl");
  const first = [...records];
  const second = [...records];
  assert.deepEqual(first, [
    { key: "a", url: undefined, date: undefined, data: { id: "a", n: 1 } },
    {
      key: undefined,
      url: "https://b.test/",
      date: undefined,
      data: { url: "https://b.test/", n: 2 },
    },
  ]);
  assert.deepEqual(second, first);
  assert.notEqual(second[0].data, first[0].data, "parsed again, not kept");
});

Deno.test("a JSON array after a byte order mark and whitespace is read as one document", () => {
  const records = recordItems(encode('\ufeff \n [{"id":1},{"id":2}]'), "items.json");
  assert.deepEqual([...records].map((r) => r.key), ["1", "2"]);
  assert.throws(
    () => recordItems(encode('[{"id":1}, 2]'), "items.json"),
    /^DiscoveryError: Cannot use element 2 of items\.json: expected a JSON object, got 2$/,
  );
});

Deno.test("a bad JSON line is reported by its number when the lines are read", () => {
  const records = recordItems(encode('{"id":1}\n\n{"id":\n'), "items.jsonl");
  assert.throws(
    () => [...records],
    /^DiscoveryError: Cannot parse JSON at line 3 of items\.jsonl: /,
  );
});

Deno.test("JSON lines longer than a block, and blocks cut between lines, read whole", () => {
  // 1 MiB blocks: lines of two-byte characters across several block ends, and one line longer
  // than a block.
  const lines = Array.from(
    { length: 30_000 },
    (_, i) => JSON.stringify({ id: i, t: "é".repeat(40) }),
  );
  lines.splice(12_345, 0, JSON.stringify({ id: "long", t: "ü".repeat(700_000) }));
  const records = [...recordItems(encode(lines.join("\n")), "big.jsonl")];
  assert.equal(records.length, 30_001);
  assert.deepEqual(records.map((r) => r.key).slice(12_344, 12_347), ["12344", "long", "12345"]);
  assert.equal((records[12_345].data.t as string).length, 700_000);
  assert.ok(records.every((r) => r.key === "long" || r.data.t === "é".repeat(40)));
  assert.equal(records.at(-1)!.key, "29999");
  // Past two block ends, a bad line is still named by its number.
  lines[25_000] = "{oops";
  assert.throws(
    () => [...recordItems(encode(lines.join("\n")), "big.jsonl")],
    /^DiscoveryError: Cannot parse JSON at line 25001 of big\.jsonl: /,
  );
});

Deno.test("a byte order mark is dropped at the start of a JSON lines file only", () => {
  const records = recordItems(encode('\ufeff{"id":"a"}\n\ufeff{"id":"b"}\n'), "items.jsonl");
  assert.throws(
    () => [...records],
    /^DiscoveryError: Cannot parse JSON at line 2 of items\.jsonl: /,
  );
});

/** A strategy that returns a one-pass iterator: a bug, since discovery reads its items twice. */
class OnePass extends BaseDiscovery {
  fetchItems(): Promise<Iterable<RawItem>> {
    return Promise.resolve((function* () {
      yield { key: "a", data: {} };
    })());
  }
}

Deno.test("a strategy whose items can be read only once is refused, not half read", async () => {
  await using t = await testEnv();
  await assert.rejects(
    () => new OnePass({}, t.env).discover(),
    /^Error: fetchItems\(\) returned a one-pass iterator; its items are read twice$/,
  );
});

async function jsonlJob(dir: string, lines: string[]) {
  await Deno.writeTextFile(join(dir, "items.jsonl"), lines.join("\n") + "\n");
  await Deno.writeTextFile(
    join(dir, "jobs.yaml"),
    `jobs:
  big:
    discovery: { strategy: jsonl, path: ./items.jsonl }
    handler: builtin:fetch
`,
  );
  return (await loadConfig(join(dir, "jobs.yaml"))).jobs[0];
}

function production(t: { db: RunContext["db"] }): RunContext {
  return {
    mode: "production",
    db: t.db,
    runId: "records-test",
    log: silentLogger,
    signal: new AbortController().signal,
    discoverOnly: true,
    singlePass: true,
    now: Date.now,
  };
}

const lines = (n: number) =>
  Array.from({ length: n }, (_, i) => JSON.stringify({ id: `k${i}`, url: `https://x.test/${i}` }));

Deno.test("a jsonl file of several chunks whose last line is bad records none of its items", async () => {
  await using t = await testEnv({ jobId: "big" });
  const job = await jsonlJob(t.dir, [...lines(12_000), '{"id": "broken",']);
  const report = await discoverStep(job, { configDir: t.dir, leaseMs: 60_000 }, production(t));
  assert.match(report.error ?? "", /Cannot parse JSON at line 12001 of .*items\.jsonl: /);
  assert.equal((await t.db.getJobStats("big")).items.total, 0);
});

Deno.test("a jsonl file of several chunks is recorded whole, each line once", async () => {
  await using t = await testEnv({ jobId: "big" });
  // Line 11,500 repeats the key of line 1: the first is kept, as before chunks.
  const all = lines(12_000).map((line, i) => i === 11_499 ? '{"id":"k0","n":-1}' : line);
  const job = await jsonlJob(t.dir, all);
  const report = await discoverStep(job, { configDir: t.dir, leaseMs: 60_000 }, production(t));
  assert.deepEqual([report.found, report.counts], [11_999, {
    inserted: 11_999,
    updated: 0,
    unchanged: 0,
  }]);
  assert.equal((await t.db.getJobStats("big")).items.total, 11_999);
  const k0 = await t.db.getItemDetail({ jobId: "big", key: "k0" });
  assert.deepEqual(k0?.data, { id: "k0", url: "https://x.test/0" });
});
