import assert from "node:assert/strict";
import { hashUrl } from "../../src/discovery/base.ts";
import { schema, StaticDiscovery } from "../../src/discovery/static.ts";
import { testEnv } from "./_server.ts";

Deno.test("static emits the configured items keyed by `key`, else by hashUrl(url)", async () => {
  await using t = await testEnv();
  const options = schema.parse({
    items: [
      { key: "intro", title: "Intro" },
      { key: 42, url: "https://example.com/x" },
      { url: "https://example.com/Page#top", note: "hashed" },
      { key: "intro", title: "duplicate" },
    ],
  });
  const result = await new StaticDiscovery(options, t.env).discover();
  assert.deepEqual({ ...result, items: [...result.items] }, {
    notModified: false,
    validators: [],
    warnings: [],
    refetch: [],
    failed: [],
    items: [
      { key: "intro", data: { title: "Intro" } },
      { key: "42", data: { url: "https://example.com/x" } },
      {
        key: hashUrl("https://example.com/Page"),
        data: { url: "https://example.com/Page#top", note: "hashed" },
      },
    ],
  });
});

Deno.test("static applies the `key` option, include and limit", async () => {
  await using t = await testEnv();
  const options = schema.parse({
    key: "slug",
    include: "^https://keep",
    limit: 1,
    items: [
      { url: "https://drop.example/1", slug: "one" },
      { url: "https://keep.example/2", slug: "two" },
      { url: "https://keep.example/3", slug: "three" },
    ],
  });
  const result = await new StaticDiscovery(options, t.env).discover();
  assert.deepEqual([...result.items], [{
    key: "two",
    data: { url: "https://keep.example/2", slug: "two" },
  }]);
});

Deno.test("static's schema wants items with a key or url and rejects unknown options", () => {
  const noKey = schema.safeParse({ items: [{ title: "x" }] });
  assert.equal(noKey.success, false);
  assert.deepEqual(noKey.error?.issues.map((i) => [i.path.join("."), i.message]), [
    ["items.0", 'expected a "key" or a "url" field'],
  ]);
  const unknown = schema.safeParse({ items: [{ key: "a" }], itemz: [] });
  assert.deepEqual(unknown.error?.issues.map((i) => i.message), ['Unrecognized key: "itemz"']);
  const empty = schema.safeParse({ items: [] });
  assert.equal(empty.success, false);
});
