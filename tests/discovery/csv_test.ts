import assert from "node:assert/strict";
import { join } from "node:path";
import { DiscoveryError } from "../../src/discovery/base.ts";
import { CsvDiscovery, schema } from "../../src/discovery/csv.ts";
import { discoverAndRecord, readResult, reply, serveRoutes, testEnv } from "./_server.ts";

const CSV = "\uFEFFid,title,url\r\n" +
  '1,"Hello, world",https://a.test/1\r\n' +
  '2,"She said ""hi""",https://a.test/2\r\n' +
  '3,"two\nlines",https://a.test/3\r\n' +
  "\r\n";

async function message(promise: Promise<unknown>): Promise<string> {
  const err = await promise.then(() => undefined, (e) => e);
  assert.ok(err instanceof DiscoveryError, `expected a DiscoveryError, got ${err}`);
  return err.message;
}

Deno.test("csv reads a file with a BOM, header row and quoted fields; keyed by the id column", async () => {
  await using t = await testEnv();
  await Deno.writeTextFile(join(t.dir, "list.csv"), CSV);
  const result = await new CsvDiscovery(schema.parse({ path: "list.csv" }), t.env).discover();
  assert.deepEqual([...result.items], [
    { key: "1", data: { id: "1", title: "Hello, world", url: "https://a.test/1" } },
    { key: "2", data: { id: "2", title: 'She said "hi"', url: "https://a.test/2" } },
    { key: "3", data: { id: "3", title: "two\nlines", url: "https://a.test/3" } },
  ]);
});

Deno.test("csv uses key_column and another delimiter", async () => {
  await using t = await testEnv();
  await Deno.writeTextFile(join(t.dir, "list.tsv"), 'sku;name\nA-1;Lamp\nB-2;"Desk; oak"\n');
  const options = schema.parse({ path: "list.tsv", key_column: "sku", delimiter: ";" });
  const result = await new CsvDiscovery(options, t.env).discover();
  assert.deepEqual([...result.items], [
    { key: "A-1", data: { sku: "A-1", name: "Lamp" } },
    { key: "B-2", data: { sku: "B-2", name: "Desk; oak" } },
  ]);
});

Deno.test("csv reads a URL conditionally: a 304 parses nothing", async () => {
  await using server = serveRoutes({
    "/export.csv": (req) =>
      req.headers.get("if-modified-since") ? reply(null, {}, 304) : reply(CSV, {
        "content-type": "text/csv",
        "last-modified": "Mon, 06 May 2024 08:00:00 GMT",
      }),
  });
  await using t = await testEnv();
  const options = schema.parse({ url: server.url("/export.csv") });
  assert.equal((await discoverAndRecord(new CsvDiscovery(options, t.env), t.db)).items.length, 3);
  const result = await new CsvDiscovery(options, t.env).discover();
  assert.deepEqual(readResult(result), {
    items: [],
    notModified: true,
    validators: [server.url("/export.csv")],
    warnings: [],
    refetch: [],
    failed: [],
  });
  assert.equal(server.hits[1].headers.get("if-modified-since"), "Mon, 06 May 2024 08:00:00 GMT");
});

Deno.test("csv reports a missing key column, a malformed file and a missing file", async () => {
  await using t = await testEnv();
  const path = join(t.dir, "bad.csv");
  await Deno.writeTextFile(path, "id,title\n1,ok\n");
  assert.equal(
    await message(
      new CsvDiscovery(schema.parse({ path: "bad.csv", key_column: "sku" }), t.env).discover(),
    ),
    `Cannot find column "sku" (key_column) in ${path}: the header has "id", "title"`,
  );
  await Deno.writeTextFile(path, 'id,title\n1,ok\n2,"unterminated\n');
  const parse = await message(
    new CsvDiscovery(schema.parse({ path: "bad.csv" }), t.env).discover(),
  );
  assert.match(parse, new RegExp(`^Cannot parse CSV ${path}: Quote Not Closed: .* line 3`));
  await Deno.writeTextFile(path, "id,title\n1,ok,extra\n");
  const width = await message(
    new CsvDiscovery(schema.parse({ path: "bad.csv" }), t.env).discover(),
  );
  assert.match(width, new RegExp(`^Cannot parse CSV ${path}: Invalid Record Length: .*line 2`));
  const missing = await message(
    new CsvDiscovery(schema.parse({ path: "none.csv" }), t.env).discover(),
  );
  assert.match(missing, new RegExp(`^Cannot read "${join(t.dir, "none.csv")}": .*No such file`));
});

Deno.test("csv's schema wants exactly one of path and url", () => {
  assert.deepEqual(schema.safeParse({}).error?.issues.map((i) => i.message), [
    'expected exactly one of "path" or "url"',
  ]);
  assert.equal(schema.safeParse({ path: "a.csv", url: "https://a.test/a.csv" }).success, false);
  assert.deepEqual(
    schema.safeParse({ url: "ftp://a.test/a.csv" }).error?.issues.map((i) => i.message),
    [
      "expected an http(s) URL",
    ],
  );
});

Deno.test("csv reads rows that cross the parser's chunks whole, multi-byte characters too", async () => {
  await using t = await testEnv();
  // 3,000 rows of ~60 bytes: several 64 KiB chunks, boundaries inside quoted fields and inside
  // the bytes of a character.
  const rows = Array.from(
    { length: 3000 },
    (_, i) => `${i},"été ☃ ${i}, ""q""\n${"é".repeat(i % 7)}"`,
  );
  const bytes = new TextEncoder().encode("\uFEFFid,tex\r\n" + rows.join("\r\n") + "\r\n");
  // The parser takes 64 KiB at a time: the first boundary falls inside an "é".
  assert.equal(bytes[65536] & 0xc0, 0x80);
  await Deno.writeFile(join(t.dir, "wide.csv"), bytes);
  const result = await new CsvDiscovery(schema.parse({ path: "wide.csv" }), t.env).discover();
  const items = [...result.items];
  assert.equal(items.length, 3000);
  for (const i of [0, 1, 1234, 2999]) {
    assert.deepEqual(items[i], {
      key: String(i),
      data: { id: String(i), tex: `été ☃ ${i}, "q"\n${"é".repeat(i % 7)}` },
    });
  }
  // Read again, as the store reads them: the same items.
  assert.deepEqual([...result.items], items);
});

Deno.test("csv reads a large file row by row, never holding its rows at once", async () => {
  await using t = await testEnv();
  const path = join(t.dir, "big.csv");
  const file = await Deno.open(path, { write: true, create: true });
  const writer = file.writable.getWriter();
  await writer.write(new TextEncoder().encode("id,url,title,n\n"));
  for (let from = 0; from < 1_000_000; from += 10_000) {
    const lines = Array.from({ length: 10_000 }, (_, j) => {
      const i = from + j;
      return `item-${i},https://example.org/posts/${i},"Title ${i}, with comma",${i}\n`;
    });
    await writer.write(new TextEncoder().encode(lines.join("")));
  }
  await writer.close();
  // 1,000,000 rows, 80 MB. Held as records they do not fit in a 256 MB heap (the process dies
  // out of memory); read as they are parsed, the keys are what the heap holds. A bound on the
  // heap, not on the resident size: how soon garbage is collected depends on the machine's load.
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--v8-flags=--max-old-space-size=256",
      join(import.meta.dirname!, "_peak_rss_child.ts"),
      "csv",
      path,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr).slice(0, 2000));
  const { error, items } = JSON.parse(new TextDecoder().decode(out.stdout));
  assert.deepEqual([error, items], [undefined, 1_000_000]);
});
