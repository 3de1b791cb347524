import assert from "node:assert/strict";

import { allItems, runInProcess, Workspace } from "./_helpers.ts";

Deno.test("discovery warnings become discovery_warning events; a dry run records none", async () => {
  const feed = `<rss version="2.0"><channel>
<item><guid>a</guid><title>Fish & Chips</title></item>
<item><guid>b</guid><title>Caf&eacute;</title></item>
</channel></rss>`;
  const srv = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    () => new Response(feed, { headers: { "content-type": "application/rss+xml" } }),
  );
  const url = `http://127.0.0.1:${srv.addr.port}/feed.xml`;
  await using ws = await Workspace.create({
    "jobs.yaml": `jobs:
  j:
    discovery: { strategy: rss, url: "${url}" }
    handler: ./noop.ts
`,
    "noop.ts": "export const HANDLER_VERSION = '1';\nexport default () => ({});\n",
  });
  const db = await ws.openDb();
  try {
    await runInProcess(ws, db, "j", { ctx: { mode: "dry_run" } });
    assert.deepEqual(await db.getEvents({ jobId: "j", kind: "discovery_warning" }), []);
    await runInProcess(ws, db, "j");
    assert.deepEqual((await allItems(db, "j")).map((i) => i.key), ["a", "b"]);
    const events = await db.getEvents({ jobId: "j", kind: "discovery_warning" });
    assert.deepEqual(events.map((e) => e.message).sort(), [
      `Feed ${url}: a bare "&" (read as text) at line 2, column 33`,
      `Feed ${url}: an undeclared HTML entity &eacute; (read as HTML) at line 3, column 31`,
    ]);
  } finally {
    await db.close();
    await srv.shutdown();
  }
});
