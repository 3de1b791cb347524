import assert from "node:assert/strict";
import { HackernewsDiscovery, schema } from "../../src/discovery/hackernews.ts";
import { reply, serveRoutes, testEnv } from "./_server.ts";

const STORIES: Record<number, unknown> = {
  101: {
    id: 101,
    type: "story",
    title: "Show a thing",
    url: "https://thing.example/",
    by: "ann",
    score: 50,
    descendants: 7,
    time: 1714557600,
  },
  102: {
    id: 102,
    type: "story",
    title: "Ask HN: why?",
    by: "bob",
    score: 5,
    descendants: 2,
    time: 1714561200,
    text: "<p>Why &amp; how</p>",
  },
  103: { id: 103, deleted: true, type: "story", time: 1714561200 },
  104: null,
  105: {
    id: 105,
    type: "job",
    title: "Hiring",
    url: "https://jobs.example/",
    by: "co",
    score: 1,
    time: 1714564800,
  },
};

function json(value: unknown): Response {
  return reply(JSON.stringify(value), { "content-type": "application/json; charset=utf-8" });
}

function hnServer(delayMs = 0) {
  let inFlight = 0;
  const stats = { maxInFlight: 0 };
  const routes: Record<string, (req: Request) => Promise<Response> | Response> = {
    "/v0/newstories.json": () => json([101, 102, 103, 104, 105]),
  };
  for (const id of Object.keys(STORIES)) {
    routes[`/v0/item/${id}.json`] = async () => {
      stats.maxInFlight = Math.max(stats.maxInFlight, ++inFlight);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      inFlight--;
      return json(STORIES[Number(id)]);
    };
  }
  return { server: serveRoutes(routes), stats };
}

Deno.test("hackernews fetches the list then its items, skipping deleted and missing ones", async () => {
  const { server } = hnServer();
  await using _ = server;
  await using t = await testEnv();
  const options = schema.parse({ list: "new", api_url: `${server.origin}/v0` });
  const items = [...(await new HackernewsDiscovery(options, t.env).discover()).items];
  assert.deepEqual(items.map((i) => i.key), ["101", "102", "105"]);
  assert.deepEqual(items[1].data, {
    id: 102,
    type: "story",
    title: "Ask HN: why?",
    url: "https://news.ycombinator.com/item?id=102",
    discussion: "https://news.ycombinator.com/item?id=102",
    by: "bob",
    score: 5,
    comments: 2,
    time: "2024-05-01T11:00:00.000Z",
    text: "<p>Why &amp; how</p>",
  });
  assert.equal(items[0].data.url, "https://thing.example/");
  assert.equal(server.count("/v0/newstories.json"), 1);
});

Deno.test("hackernews fetches only `limit` items, at most `concurrency` at a time", async () => {
  const { server, stats } = hnServer(50);
  await using _ = server;
  await using t = await testEnv();
  const options = schema.parse({ list: "new", api_url: `${server.origin}/v0`, limit: 2 });
  const result = await new HackernewsDiscovery(options, t.env).discover();
  assert.deepEqual([...result.items].map((i) => i.key), ["101", "102"]);
  assert.equal(server.hits.length, 3);
  const all = schema.parse({ list: "new", api_url: `${server.origin}/v0`, concurrency: 2 });
  assert.equal((await new HackernewsDiscovery(all, t.env).discover()).items.length, 3);
  assert.equal(stats.maxInFlight, 2);
});

Deno.test("hackernews reports a list that is not an array of ids", async () => {
  await using server = serveRoutes({
    "/v0/topstories.json": () => json({ error: "Permission denied" }),
  });
  await using t = await testEnv();
  const options = schema.parse({ list: "top", api_url: `${server.origin}/v0` });
  const err = await new HackernewsDiscovery(options, t.env).discover().catch((e) => e);
  assert.equal(
    err.message,
    `Cannot read ${server.url("/v0/topstories.json")}: expected an array of item ids`,
  );
});
