import { getResults } from "../../src/db/store.ts";
import assert from "node:assert/strict";

import { allItems, fakeClock, runInProcess, statusMap, Workspace } from "./_helpers.ts";

type Route = (req: Request) => Response;

/** A server on 127.0.0.1 answering each path with its route and logging [path, time]. */
function server(routes: Record<string, Route>) {
  const hits: [string, number][] = [];
  const srv = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, (req) => {
    const path = new URL(req.url).pathname;
    hits.push([path, Date.now()]);
    return (routes[path] ?? (() => new Response("no route", { status: 404 })))(req);
  });
  const url = (path: string) => `http://127.0.0.1:${srv.addr.port}${path}`;
  return { srv, hits, url };
}

function fetchYaml(urls: Record<string, string>, backoff = "1s"): string {
  const items = Object.entries(urls).map(([key, url]) =>
    `        - { key: ${key}, url: "${url}" }`
  );
  return `jobs:
  j:
    discovery:
      strategy: static
      items:
${items.join("\n")}
    stages:
      - handler: builtin:fetch
        concurrency: 1
        retries: 3
        backoff: ${backoff}
`;
}

Deno.test("builtin fetch: a 429 with Retry-After puts the retry no earlier than asked", async () => {
  const { srv, url } = server({
    "/busy": () => new Response("slow down", { status: 429, headers: { "retry-after": "120" } }),
  });
  await using ws = await Workspace.create({ "jobs.yaml": fetchYaml({ busy: url("/busy") }) });
  const clock = fakeClock();
  const db = await ws.openDb();
  try {
    await runInProcess(ws, db, "j", { now: clock.now });
    const [item] = await allItems(db, "j");
    assert.deepEqual(item.stages, [{
      stage: "fetch",
      status: "pending",
      attempts: 1,
      error: `GET ${url("/busy")} answered 429`,
    }]);
    const [retry] = await db.getEvents({ jobId: "j", kind: "retry" });
    assert.equal(retry.data!.runAfter, clock.now() + 120_000);
    clock.advance(119_999);
    await runInProcess(ws, db, "j", { now: clock.now });
    assert.equal((await allItems(db, "j"))[0].stages[0].attempts, 1, "not retried before 120 s");
  } finally {
    await db.close();
    await srv.shutdown();
  }
});

Deno.test("builtin fetch: 5xx is retried, other 4xx fail at once, 200 stores the response", async () => {
  const { srv, url } = server({
    "/ok": () => new Response("hello", { headers: { "content-type": "text/plain", etag: '"v1"' } }),
    "/down": () => new Response("oops", { status: 503 }),
    "/gone": () => new Response("gone", { status: 410 }),
  });
  await using ws = await Workspace.create({
    "jobs.yaml": fetchYaml({ ok: url("/ok"), down: url("/down"), gone: url("/gone") }),
  });
  const db = await ws.openDb();
  try {
    await runInProcess(ws, db, "j");
    const items = await allItems(db, "j");
    const byKey = Object.fromEntries(items.map((i) => [i.key, i.stages[0]]));
    assert.deepEqual(byKey.down, {
      stage: "fetch",
      status: "pending",
      attempts: 1,
      error: `GET ${url("/down")} answered 503`,
    });
    assert.deepEqual(byKey.gone, {
      stage: "fetch",
      status: "failed",
      attempts: 1,
      error: `PermanentError: GET ${url("/gone")} answered 410`,
    });
    const ok = items.find((i) => i.key === "ok")!;
    assert.deepEqual((await getResults(db, ok.id))[0].result, {
      url: url("/ok"),
      status: 200,
      contentType: "text/plain",
      etag: '"v1"',
      lastModified: null,
      body: "hello",
    });
  } finally {
    await db.close();
    await srv.shutdown();
  }
});

Deno.test("builtin fetch: an item without a URL fails at once, naming the item", async () => {
  await using ws = await Workspace.create({
    "jobs.yaml": `jobs:
  j:
    discovery: { strategy: static, items: [{ key: nourl, title: x }] }
    handler: builtin:fetch
`,
  });
  const db = await ws.openDb();
  try {
    await runInProcess(ws, db, "j");
    assert.deepEqual((await allItems(db, "j"))[0].stages[0], {
      stage: "fetch",
      status: "failed",
      attempts: 1,
      error: 'PermanentError: Item "nourl" has no "url" string to fetch',
    });
  } finally {
    await db.close();
  }
});

Deno.test("ctx.fetch holds a domain back for its Retry-After after a 429", async () => {
  const { srv, hits, url } = server({
    "/first": () => new Response("wait", { status: 429, headers: { "retry-after": "1" } }),
    "/second": () => new Response("fine"),
  });
  await using ws = await Workspace.create({
    // A backoff of a minute keeps the first item from a second try in this run.
    "jobs.yaml": fetchYaml({ a: url("/first"), b: url("/second") }, "1m"),
  });
  const db = await ws.openDb();
  try {
    await runInProcess(ws, db, "j");
    assert.deepEqual(await statusMap(db, "j"), { a: "fetch=pending", b: "fetch=done" });
    assert.deepEqual(hits.map(([path]) => path), ["/first", "/second"]);
    const at = Object.fromEntries(hits);
    assert.ok(
      at["/second"] - at["/first"] >= 1000,
      `second request ${at["/second"] - at["/first"]} ms after the 429`,
    );
  } finally {
    await db.close();
    await srv.shutdown();
  }
});
