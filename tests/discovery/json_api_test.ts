import assert from "node:assert/strict";
import { DiscoveryError } from "../../src/discovery/base.ts";
import { JsonApiDiscovery, schema } from "../../src/discovery/json_api.ts";
import { reply, serveRoutes, testEnv } from "./_server.ts";

/** 7 records served 3 a page; `page` is 1-based. */
const RECORDS = Array.from({ length: 7 }, (_, i) => ({ id: i + 1, title: `Post ${i + 1}` }));
function slice(page: number): { id: number; title: string }[] {
  return RECORDS.slice((page - 1) * 3, page * 3);
}
function json(value: unknown, headers: Record<string, string> = {}): Response {
  return reply(JSON.stringify(value), { "content-type": "application/json", ...headers });
}

async function keys(
  options: Record<string, unknown>,
  env: Parameters<typeof testEnv>[0] = {},
): Promise<string[]> {
  await using t = await testEnv(env);
  const result = await new JsonApiDiscovery(schema.parse(options), t.env).discover();
  return [...result.items].map((i) => i.key);
}

const ALL = ["1", "2", "3", "4", "5", "6", "7"];

Deno.test("json_api reads items at items_path and follows page numbers until an empty page", async () => {
  await using server = serveRoutes({
    "/posts": (req) => {
      const page = Number(new URL(req.url).searchParams.get("p") ?? 1);
      return json({ data: { posts: slice(page) } });
    },
  });
  const options = {
    url: server.url("/posts?per=3"),
    items_path: "data.posts",
    pagination: { type: "page", param: "p" },
  };
  assert.deepEqual(await keys(options), ALL);
  assert.deepEqual(server.hits.map((h) => h.path), [
    "/posts?per=3",
    "/posts?per=3&p=2",
    "/posts?per=3&p=3",
    "/posts?per=3&p=4",
  ]);
});

Deno.test("json_api follows offsets, stopping at max_pages", async () => {
  await using server = serveRoutes({
    "/items": (req) => {
      const offset = Number(new URL(req.url).searchParams.get("offset") ?? 0);
      return json(RECORDS.slice(offset, offset + 3));
    },
  });
  assert.deepEqual(await keys({ url: server.url("/items"), pagination: { type: "offset" } }), ALL);
  const capped = await keys({
    url: server.url("/items"),
    pagination: { type: "offset" },
    max_pages: 2,
  });
  assert.deepEqual(capped, ["1", "2", "3", "4", "5", "6"]);
  assert.deepEqual(server.hits.slice(-2).map((h) => h.path), ["/items", "/items?offset=3"]);
});

Deno.test("json_api follows a cursor field and a next-URL field", async () => {
  await using server = serveRoutes({
    "/cursor": (req) => {
      const page = Number(new URL(req.url).searchParams.get("after") ?? 1);
      return json({ items: slice(page), meta: { next: page < 3 ? page + 1 : null } });
    },
    "/next": (req) => {
      const page = Number(new URL(req.url).searchParams.get("page") ?? 1);
      return json({
        results: slice(page),
        links: { next: page < 3 ? `/next?page=${page + 1}` : "" },
      });
    },
  });
  const cursor = { type: "cursor", param: "after", cursor_path: "meta.next" };
  assert.deepEqual(
    await keys({ url: server.url("/cursor"), items_path: "items", pagination: cursor }),
    ALL,
  );
  const next = { type: "next_url", next_path: "links.next" };
  assert.deepEqual(
    await keys({ url: server.url("/next"), items_path: "results", pagination: next }),
    ALL,
  );
  assert.equal(server.count("/cursor"), 3);
  assert.equal(server.count("/next"), 3);
});

Deno.test("json_api follows Link rel=next and stops on a repeated URL", async () => {
  await using server = serveRoutes({
    "/link": (req) => {
      const page = Number(new URL(req.url).searchParams.get("page") ?? 1);
      const next = page < 3 ? `</link?page=${page + 1}>; rel="next"` : `</link?page=1>; rel="next"`;
      return json(slice(page), { link: `</link?page=1>; rel="first", ${next}` });
    },
  });
  assert.deepEqual(
    await keys({ url: server.url("/link?page=1"), pagination: { type: "link" } }),
    ALL,
  );
  assert.equal(server.count("/link"), 3);
});

Deno.test("json_api without pagination reads one page; `key` picks a nested field", async () => {
  await using server = serveRoutes({
    "/one": () => json([{ meta: { slug: "x" }, url: "https://a.test/x" }, { meta: { slug: "y" } }]),
  });
  assert.deepEqual(await keys({ url: server.url("/one"), key: "meta.slug" }), ["x", "y"]);
});

Deno.test("json_api reports a missing items_path, non-object records and HTML instead of JSON", async () => {
  await using server = serveRoutes({
    "/obj": () => json({ data: {} }),
    "/nums": () => json([1, 2]),
    "/html": () => reply("<!doctype html><p>Login</p>", { "content-type": "text/html" }),
  });
  await using t = await testEnv();
  const run = (options: Record<string, unknown>) =>
    new JsonApiDiscovery(schema.parse(options), t.env).discover().then(
      () => "",
      (e: DiscoveryError) => {
        assert.ok(e instanceof DiscoveryError);
        return e.message;
      },
    );
  assert.equal(
    await run({ url: server.url("/obj"), items_path: "data.items" }),
    `Cannot find records in ${server.url("/obj")}: "data.items" (items_path) is not an array`,
  );
  assert.equal(
    await run({ url: server.url("/nums") }),
    `Cannot use record 1 from ${server.url("/nums")}: expected an object, got 1`,
  );
  assert.match(
    await run({ url: server.url("/html") }),
    new RegExp(
      `^Cannot parse JSON from ${server.url("/html")}: .+ \\(content type "text/html"\\)$`,
    ),
  );
});

Deno.test("json_api's schema checks the pagination type and its fields", () => {
  const bad = schema.safeParse({ url: "https://a.test/", pagination: { type: "cursor" } });
  assert.deepEqual(bad.error?.issues.map((i) => i.path.join(".")), ["pagination.cursor_path"]);
  const unknown = schema.safeParse({ url: "https://a.test/", pagination: { type: "pages" } });
  assert.equal(unknown.success, false);
});
