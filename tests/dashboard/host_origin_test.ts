/**
 * DNS rebinding and cross-site forms against `jobs dashboard` without a token: the real program,
 * requests written by hand on a TCP socket so that Host and Origin can be forged.
 */
import assert from "node:assert/strict";
import { EXIT } from "../../src/cli/mod.ts";

import { Workspace } from "../runner/_helpers.ts";

interface Reply {
  status: number;
  body: string;
}

/** Sends one HTTP/1.1 request with exactly `headers` (Host included) and reads the reply. */
async function send(
  port: number,
  request: { method: string; path: string; headers: Record<string, string>; body?: string },
): Promise<Reply> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const body = request.body ?? "";
    const headers = { ...request.headers, "content-length": String(body.length) };
    const head = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join("");
    const text = `${request.method} ${request.path} HTTP/1.1\r\n${head}connection: close\r\n\r\n`;
    await conn.write(new TextEncoder().encode(text + body));
    const reply = await new Response(conn.readable).text();
    return { status: Number(reply.match(/^HTTP\/1\.1 (\d{3})/)?.[1]), body: reply };
  } finally {
    try {
      conn.close();
    } catch { /* closed by the server */ }
  }
}

/** Starts `jobs dashboard --port 0`; resolves with its port once it listens. */
async function startDashboard(ws: Workspace): Promise<{ child: Deno.ChildProcess; port: number }> {
  const child = ws.spawn(["dashboard", "--config", ws.path("jobs.yaml"), "--port", "0"]);
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
  while (!/^Dashboard: /m.test(out)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`The dashboard did not start: ${out}`);
    out += value;
  }
  clearTimeout(timer);
  reader.releaseLock();
  child.stdout.cancel().catch(() => {});
  return { child, port: Number(out.match(/:(\d+)\//)![1]) };
}

Deno.test("dashboard without a token refuses a forged Host or Origin with 403 and changes nothing", async () => {
  await using ws = await Workspace.create({
    "jobs.yaml": `jobs:
  feed:
    discovery: { strategy: static, items: [{ key: a }] }
    handler: builtin:fetch
`,
  });
  const seeded = await ws.jobs(["run", "--discover-only"]);
  assert.equal(seeded.code, EXIT.ok, seeded.stderr);
  const { child, port } = await startDashboard(ws);
  try {
    const own = `127.0.0.1:${port}`;
    const rebound = await send(port, {
      method: "GET",
      path: "/jobs/feed",
      headers: { host: `evil.example:${port}` },
    });
    assert.equal(rebound.status, 403);
    assert.doesNotMatch(rebound.body, /name="csrf"/, "the refused page holds no CSRF token");

    const page = await send(port, { method: "GET", path: "/jobs/feed", headers: { host: own } });
    assert.equal(page.status, 200);
    const csrf = page.body.match(/name="csrf" value="([0-9a-f]+)"/)?.[1];
    assert.ok(csrf, "the page has its form token");
    const local = await send(port, {
      method: "GET",
      path: "/",
      headers: { host: `localhost:${port}` },
    });
    assert.equal(local.status, 200);

    const form = {
      "content-type": "application/x-www-form-urlencoded",
    };
    const pause = (headers: Record<string, string>) =>
      send(port, {
        method: "POST",
        path: "/jobs/feed/pause",
        headers: { ...form, ...headers },
        body: `csrf=${csrf}`,
      });
    const forged: Record<string, string>[] = [
      { host: own, origin: "http://evil.example" },
      { host: own, origin: "null" },
      { host: `evil.example:${port}`, origin: `http://evil.example:${port}` },
      { host: `evil.example:${port}` },
    ];
    for (const headers of forged) {
      assert.equal((await pause(headers)).status, 403, JSON.stringify(headers));
    }
    const db = await ws.openDb();
    try {
      assert.equal((await db.getJobState("feed")).paused, false, "no forged request paused it");
      // The dashboard's own form, with or without Origin, still works.
      assert.equal((await pause({ host: own, origin: `http://${own}` })).status, 303);
      assert.equal((await db.getJobState("feed")).paused, true);
      const unpause = await send(port, {
        method: "POST",
        path: "/jobs/feed/unpause",
        headers: { ...form, host: own },
        body: `csrf=${csrf}`,
      });
      assert.equal(unpause.status, 303);
      assert.equal((await db.getJobState("feed")).paused, false);
    } finally {
      await db.close();
    }
  } finally {
    child.kill("SIGINT");
    await child.status;
    await child.stderr.cancel().catch(() => {});
  }
});
