import assert from "node:assert/strict";
import { join } from "node:path";
import { time } from "../../src/cli/_table.ts";
import { waitFor } from "../runner/_helpers.ts";
import { command, HOUR, jobs, workspace } from "./_seed.ts";

Deno.test("jobctl run says that a job is paused, since when, why and how much waits", async () => {
  await using w = await workspace();
  await Deno.writeTextFile(join(w.dir, "tag.ts"), "export default () => ({ tagged: true });\n");
  const out = await jobs(w.dir, ["run", "-j", "notes"]);
  assert.equal(out.code, 0, out.stderr);
  const warnings = out.stderr.split("\n").filter((line) => / warn /.test(line));
  assert.deepEqual(warnings.map((line) => line.replace(/^\S+ warn {2}/, "")), [
    `notes is paused since ${time(w.now - HOUR)}: disk full; 2 items waiting; ` +
    "jobctl unpause -j notes resumes it job=notes",
  ]);
});

Deno.test("jobctl run --watch says how often it discovers a feed without discovery.every", async () => {
  await using w = await workspace({ seed: false });
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, () =>
    new Response(
      `<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>` +
        `<item><guid>a</guid><title>A</title></item></channel></rss>`,
      { headers: { "content-type": "application/rss+xml" } },
    ));
  try {
    await Deno.writeTextFile(
      join(w.dir, "jobs.yaml"),
      `jobs:
  feed:
    discovery: { strategy: rss, url: "http://127.0.0.1:${server.addr.port}/feed.xml" }
    handler: ./h.ts
  inbox:
    discovery: { strategy: files, root: ".", glob: "*.txt" }
    handler: ./h.ts
`,
    );
    await Deno.writeTextFile(join(w.dir, "h.ts"), "export default () => null;\n");
    const child = command(w.dir, ["run", "--watch"]).spawn();
    let stderr = "";
    const reading = (async () => {
      for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) stderr += chunk;
    })();
    const announced = () =>
      stderr.split("\n").filter((l) => l.includes("--watch discovers")).map((l) =>
        l.replace(/^\S+ info {2}/, "")
      ).sort();
    try {
      await waitFor(
        "both jobs to say how often they discover",
        () => announced().length === 2,
        60_000,
      );
    } finally {
      child.kill("SIGTERM");
    }
    await child.stdout.cancel();
    await reading;
    const status = await child.status;
    assert.deepEqual(announced(), [
      "feed: --watch discovers every 15m and when woken (the default for discovery over HTTP; " +
      "set discovery.every to change it) job=feed",
      "inbox: --watch discovers every 5s (files discovery without discovery.every) job=inbox",
    ]);
    assert.equal(status.code, 130, "stopped by SIGTERM");
  } finally {
    await server.shutdown();
  }
});
