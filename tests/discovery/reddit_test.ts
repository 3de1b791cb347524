import assert from "node:assert/strict";
import { RedditDiscovery, schema } from "../../src/discovery/reddit.ts";
import { reply, serveRoutes, testEnv } from "./_server.ts";

function post(id: string, extra: Record<string, unknown> = {}) {
  return {
    kind: "t3",
    data: {
      id,
      name: `t3_${id}`,
      title: `Post ${id}`,
      url: `https://blog.example/${id}`,
      permalink: `/r/rust/comments/${id}/post_${id}/`,
      author: "ann",
      score: 10,
      num_comments: 3,
      created_utc: 1714557600,
      selftext: "",
      subreddit: "rust",
      ...extra,
    },
  };
}

const PAGES: Record<string, { children: unknown[]; after: string | null }> = {
  "": {
    children: [post("aa"), post("bb", { url: undefined, selftext: "Text &amp; more" })],
    after: "t3_bb",
  },
  t3_bb: { children: [post("cc")], after: "t3_cc" },
  t3_cc: { children: [post("dd")], after: null },
};

function redditServer() {
  return serveRoutes({
    "/r/rust/new.json": (req) => {
      const after = new URL(req.url).searchParams.get("after") ?? "";
      return reply(JSON.stringify({ kind: "Listing", data: { ...PAGES[after], dist: 2 } }), {
        "content-type": "application/json",
      });
    },
  });
}

Deno.test("reddit follows `after` up to max_pages", async () => {
  await using server = redditServer();
  await using t = await testEnv();
  const options = schema.parse({
    subreddit: "rust",
    listing: "new",
    max_pages: 5,
    base_url: server.origin,
  });
  const items = [...(await new RedditDiscovery(options, t.env).discover()).items];
  assert.deepEqual(items.map((i) => i.key), ["aa", "bb", "cc", "dd"]);
  assert.deepEqual(server.hits.map((h) => h.path), [
    "/r/rust/new.json?limit=100&raw_json=1",
    "/r/rust/new.json?limit=100&raw_json=1&after=t3_bb",
    "/r/rust/new.json?limit=100&raw_json=1&after=t3_cc",
  ]);
  assert.deepEqual(items[1].data, {
    id: "bb",
    title: "Post bb",
    url: `${server.origin}/r/rust/comments/bb/post_bb/`,
    permalink: `${server.origin}/r/rust/comments/bb/post_bb/`,
    author: "ann",
    score: 10,
    comments: 3,
    created: "2024-05-01T10:00:00.000Z",
    selftext: "Text &amp; more",
    subreddit: "rust",
  });
});

Deno.test("reddit reads one page by default and stops once `limit` posts are in", async () => {
  await using server = redditServer();
  await using t = await testEnv();
  const one = schema.parse({ subreddit: "rust", listing: "new", base_url: server.origin });
  assert.equal((await new RedditDiscovery(one, t.env).discover()).items.length, 2);
  const limited = schema.parse({
    subreddit: "rust",
    listing: "new",
    max_pages: 5,
    limit: 3,
    base_url: server.origin,
  });
  assert.deepEqual(
    [...(await new RedditDiscovery(limited, t.env).discover()).items].map((i) => i.key),
    [
      "aa",
      "bb",
      "cc",
    ],
  );
  assert.equal(server.hits.length, 3);
});

Deno.test("reddit reports a response that is not a listing", async () => {
  await using server = serveRoutes({
    "/r/private/hot.json": () => reply(JSON.stringify({ reason: "private", error: 403 }), {}, 200),
  });
  await using t = await testEnv();
  const options = schema.parse({ subreddit: "private", base_url: server.origin });
  const err = await new RedditDiscovery(options, t.env).discover().catch((e) => e);
  assert.equal(
    err.message,
    `Cannot read ${
      server.url("/r/private/hot.json?limit=100&raw_json=1")
    }: expected a Reddit listing`,
  );
  assert.equal(schema.safeParse({ subreddit: "r/rust" }).success, false);
});
