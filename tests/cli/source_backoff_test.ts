import assert from "node:assert/strict";
import { Workspace } from "../runner/_helpers.ts";
import { reply, serveRoutes } from "../discovery/_server.ts";

const FEED = `<?xml version="1.0"?>
<rss version="2.0"><channel><title>News</title>
  <item><guid>post-1</guid><title>One</title><link>https://example.org/1</link></item>
</channel></rss>`;

Deno.test("jobctl run processes share a 429's hold of the host; status and doctor show it; wake ends it", async () => {
  await using server = serveRoutes({
    "/a.xml": (_req, hit) =>
      hit === 1
        ? reply("slow down", { "retry-after": "3600" }, 429)
        : reply(FEED, { "content-type": "application/rss+xml" }),
    "/b.xml": () => reply(FEED, { "content-type": "application/rss+xml" }),
  });
  await using ws = await Workspace.create({
    "jobs.yaml": `jobs:
  a:
    discovery: { strategy: rss, url: "${server.url("/a.xml")}", retries: 0 }
    handler: builtin:fetch
  b:
    discovery: { strategy: rss, url: "${server.url("/b.xml")}", retries: 0 }
    handler: builtin:fetch
`,
  });
  const host = new URL(server.origin).host;
  const first = await ws.jobs(["run", "-j", "a", "--discover-only"]);
  assert.match(first.stderr, /a: discovery failed: HTTP 429 Too Many Requests from /);
  assert.equal(server.count("/a.xml"), 1);

  // Another process, another job on the same host: its URL is not requested.
  const other = await ws.jobs(["run", "-j", "b", "--discover-only"]);
  assert.equal(other.code, 0, other.stderr);
  assert.match(
    other.stderr,
    new RegExp(
      `b: discovery skipped \\(Not reading ${server.url("/b.xml")} until \\S+: ` +
        `HTTP 429 from ${server.url("/a.xml")} \\(Retry-After: 3600\\)`,
    ),
  );
  const again = await ws.jobs(["run", "-j", "a", "--discover-only"]);
  assert.match(again.stderr, /a: discovery skipped \(Not reading /);
  assert.deepEqual([server.count("/a.xml"), server.count("/b.xml")], [1, 0]);

  const status = JSON.parse((await ws.jobs(["status", "-j", "a", "--json"])).stdout);
  const held = status.jobs[0].discovery.held;
  assert.deepEqual(held.map((h: { scope: string; target: string }) => [h.scope, h.target]), [
    ["host", host],
    ["url", server.url("/a.xml")],
  ]);
  assert.equal(held[1].failures, 1);
  assert.equal(held[1].nextTryAt - held[0].nextTryAt, 0, "both end with the Retry-After");
  const text = (await ws.jobs(["status", "-j", "a"])).stdout;
  assert.match(
    text,
    new RegExp(
      `\\n  held       every URL of ${host}: HTTP 429 from \\S+ \\(Retry-After: 3600\\); next try \\S+ \\S+ \\(in \\w+\\)\\n`,
    ),
  );
  const doctor = await ws.jobs(["doctor"]);
  assert.match(
    doctor.stdout,
    new RegExp(`Discovery of job "a" backs off from ${server.url("/a.xml")}`),
  );
  assert.match(doctor.stdout, /jobctl wake -j a/);

  assert.equal((await ws.jobs(["wake", "-j", "a"])).code, 0);
  const woken = await ws.jobs(["run", "-j", "a", "--discover-only"]);
  assert.match(woken.stderr, /a: discovered 1 \(1 new, 0 updated\)/);
  const after = await ws.jobs(["run", "-j", "b", "--discover-only"]);
  assert.match(after.stderr, /b: discovered 1 \(1 new, 0 updated\)/);
  assert.deepEqual([server.count("/a.xml"), server.count("/b.xml")], [2, 1]);
  assert.deepEqual(
    JSON.parse((await ws.jobs(["status", "--json"])).stdout).jobs.map((
      j: { discovery: { held: unknown[] } },
    ) => j.discovery.held),
    [[], []],
  );
});
