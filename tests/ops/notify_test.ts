import assert from "node:assert/strict";
import { EXIT } from "../../src/cli/mod.ts";
import { loadConfig } from "../../src/config/load.ts";
import { deliverAlerts } from "../../src/ops/notify.ts";
import { silentLogger } from "../../src/util/log.ts";
import { waitFor, Workspace } from "../runner/_helpers.ts";
import { type Receiver, startReceiver } from "./_receiver.ts";

// Fails items whose data has `bad`, spends data.usd, sleeps data.ms, logs each call.
const HANDLER = `export default async function handle(item, ctx) {
  Deno.writeTextFileSync(new URL("./calls.log", import.meta.url), item.key + "\\n", { append: true });
  if (item.data.usd) ctx.cost(item.data.usd);
  if (item.data.ms) await new Promise((resolve) => setTimeout(resolve, item.data.ms));
  if (item.data.bad) {
    const err = new Error("bad input " + item.key);
    err.name = "PermanentError";
    throw err;
  }
  return { ok: true };
}
`;

function items(list: string[]): string {
  return `[${list.join(", ")}]`;
}

/** A workspace whose jobs.yaml sends every alert to the receiver's /hook. */
async function workspace(rx: Receiver, jobs: string, top = ""): Promise<Workspace> {
  return await Workspace.create({
    "h.ts": HANDLER,
    "jobs.yaml": `notify:
  targets:
    - webhook: ${rx.url}/hook
      headers: { X-Token: "\${HOOK_TOKEN}" }
      timeout: 2s
${top}jobs:
${jobs}`,
  });
}

function job(id: string, list: string[], extra = ""): string {
  return `  ${id}:
    discovery: { strategy: static, items: ${items(list)} }
${extra}    stages:
      - { name: s, handler: ./h.ts, retries: 0, concurrency: 1 }
`;
}

const ENV = { HOOK_TOKEN: "sekrit" };
// jobs.yaml is also loaded in this process.
Deno.env.set("HOOK_TOKEN", ENV.HOOK_TOKEN);

Deno.test("permanent failures of a run reach the webhook as one alert per stage, with examples", async () => {
  await using rx = startReceiver();
  await using ws = await workspace(
    rx,
    job("feed", [
      "{ key: a, bad: true }",
      "{ key: b, bad: true }",
      "{ key: c }",
      "{ key: d, bad: true }",
    ]),
  );
  const out = await ws.jobs(["run"], ENV);
  assert.equal(out.code, EXIT.failed, out.stderr);
  const [alert, ...more] = rx.bodies("/hook");
  assert.deepEqual(more, []);
  const headers = rx.received[0].headers;
  assert.equal(headers.get("x-token"), "sekrit", "the header's ${HOOK_TOKEN} was filled in");
  assert.equal(headers.get("content-type"), "application/json");
  assert.equal(
    alert.text,
    "jobctl: job feed: stage s: 3 items failed permanently, e.g. a (PermanentError: bad input a), " +
      "b (PermanentError: bad input b), d (PermanentError: bad input d)",
  );
  assert.equal(alert.content, alert.text);
  assert.equal(alert.kind, "failed");
  const [one] = alert.alerts as { count: number; data: { examples: unknown[] } }[];
  assert.equal(one.count, 3);
  assert.equal(one.data.examples.length, 3);
  const db = await ws.openDb();
  try {
    assert.deepEqual(await db.pendingAlerts(), [], "delivered alerts leave the outbox");
  } finally {
    await db.close();
  }
});

Deno.test("the cooldown holds a second run's alert back, and it goes out once it is over", async () => {
  await using rx = startReceiver();
  await using ws = await workspace(rx, job("feed", ["{ key: a, bad: true }"]));
  assert.equal((await ws.jobs(["run"], ENV)).code, EXIT.failed);
  assert.equal(rx.bodies("/hook").length, 1);
  const db = await ws.openDb();
  try {
    await db.retryFailed({ jobId: "feed" });
    assert.equal((await ws.jobs(["run"], ENV)).code, EXIT.failed);
    assert.equal(rx.bodies("/hook").length, 1, "the second run sent nothing");
    const held = await db.pendingAlerts();
    assert.deepEqual(held.map((a) => [a.kind, a.count, a.attempts]), [["failed", 1, 0]]);
    // An hour later (the default cooldown), the next round sends it.
    const config = await loadConfig(ws.path("jobs.yaml"));
    const later = () => Date.now() + 3_600_001;
    const report = await deliverAlerts(db, config, { log: silentLogger, now: later });
    assert.deepEqual(report, { sent: 1, failed: 0, held: 0 });
    assert.equal(rx.bodies("/hook").length, 2);
    assert.deepEqual(await db.pendingAlerts(), []);
  } finally {
    await db.close();
  }
});

Deno.test("a target that is down or hangs keeps its alerts for the next run; the run ends normally", async () => {
  await using rx = startReceiver();
  await using ws = await workspace(rx, job("feed", ["{ key: a, bad: true }", "{ key: b }"]));
  rx.mode = "hang";
  const hung = await ws.jobs(["run"], ENV);
  assert.equal(hung.code, EXIT.failed, hung.stderr);
  assert.match(
    hung.stderr,
    /Alert not delivered, kept for the next run: webhook http:\/\/127\.0\.0\.1:\d+: /,
  );
  assert.doesNotMatch(hung.stderr, /sekrit/);
  assert.deepEqual(await ws.lines("calls.log"), ["a", "b"]);
  rx.mode = "error";
  const down = await ws.jobs(["run"], ENV);
  assert.equal(down.code, EXIT.ok, down.stderr);
  assert.match(down.stderr, /webhook http:\/\/127\.0\.0\.1:\d+: HTTP 503/);
  rx.mode = "ok";
  rx.received.length = 0;
  const up = await ws.jobs(["run"], ENV);
  assert.equal(up.code, EXIT.ok, up.stderr);
  const bodies = rx.bodies("/hook");
  assert.equal(bodies.length, 1);
  assert.match(String(bodies[0].text), /stage s: 1 item failed permanently, e\.g\. a/);
  const db = await ws.openDb();
  try {
    assert.deepEqual(await db.pendingAlerts(), []);
  } finally {
    await db.close();
  }
});

Deno.test("a command target gets the alert as JSON on stdin, without a shell", async () => {
  await using rx = startReceiver();
  await using ws = await workspace(
    rx,
    job("feed", ["{ key: a, bad: true }"], "    pause_after_failures: 1\n"),
    '    - command: [./page.sh, "$(touch pwned)"]\n      events: [paused]\n',
  );
  await ws.write(
    "page.sh",
    '#!/bin/sh\necho "$1" >> args.txt\ncat >> paged.jsonl\necho >> paged.jsonl\n',
  );
  const out = await ws.jobs(["run"], ENV);
  assert.equal(out.code, EXIT.failed, out.stderr);
  const paged = (await ws.lines("paged.jsonl")).map((l) => JSON.parse(l));
  assert.deepEqual(paged.map((p) => [p.kind, p.job]), [["paused", "feed"]]);
  assert.match(
    paged[0].text,
    /^jobctl: job feed: paused by its circuit breaker: 1 consecutive failed/,
  );
  assert.deepEqual(await ws.lines("args.txt"), ["$(touch pwned)"]);
  assert.equal(await Deno.stat(ws.path("pwned")).then(() => true, () => false), false);
  // The webhook gets both kinds: the failure and the pause.
  assert.deepEqual(rx.bodies("/hook").map((b) => b.kind).sort(), ["failed", "paused"]);
});

Deno.test("a budget reached, a failing discovery and a silent source each raise their alert", async () => {
  await using rx = startReceiver();
  await using ws = await workspace(
    rx,
    job("spend", ["{ key: a, usd: 1 }", "{ key: b, usd: 1 }"], "    budget: { daily_usd: 1 }\n") +
      `  broken:
    discovery: { strategy: rss, url: "${rx.url}/missing.xml", retries: 0 }
    notify: { discovery_failures: 2, targets: [{ webhook: "${rx.url}/hook" }] }
    handler: ./h.ts
` + job("quiet", ["{ key: q }"], "    expect_new_within: 300ms\n"),
  );
  rx.mode = "error";
  const first = await ws.jobs(["run"], ENV);
  assert.equal(first.code, EXIT.failed, first.stderr);
  rx.mode = "ok";
  const started = Date.now();
  await waitFor("the quiet source's window to pass", () => Date.now() - started > 400);
  rx.received.length = 0;
  rx.mode = "error";
  // The failed feed is held back (its backoff); wake asks for it again at once.
  assert.equal((await ws.jobs(["wake", "-j", "broken"], ENV)).code, EXIT.ok);
  await ws.jobs(["run", "-j", "broken"], ENV);
  rx.mode = "ok";
  const second = await ws.jobs(["run", "-j", "spend", "-j", "quiet"], ENV);
  assert.equal(second.code, EXIT.ok, second.stderr);
  const texts = rx.bodies("/hook").flatMap((b) => b.alerts as { kind: string; text: string }[])
    .map((a) => `${a.kind}: ${a.text}`).sort();
  assert.equal(texts.length, 3, texts.join("\n"));
  assert.match(texts[0], /^budget: job spend: Daily budget of \$1\.00 reached/);
  assert.match(
    texts[1],
    /^discovery_failing: job broken: discovery failed 2 times in a row; last: /,
  );
  assert.match(texts[2], /^silent: job quiet: no new item for \d+m \(expected within 300ms\)/);
});

Deno.test("a run killed mid-work is reported as crashed by the next run", async () => {
  await using rx = startReceiver();
  await using ws = await workspace(rx, job("slow", ["{ key: a, ms: 60000 }", "{ key: b }"]));
  const child = ws.spawn(["run", "--config", ws.path("jobs.yaml")], ENV);
  await waitFor(
    "the handler to start",
    async () => (await ws.lines("calls.log")).length > 0,
    30_000,
  );
  child.kill("SIGKILL");
  await child.status;
  // The next run finds "a" quick to handle.
  const yaml = await Deno.readTextFile(ws.path("jobs.yaml"));
  await ws.write("jobs.yaml", yaml.replace("{ key: a, ms: 60000 }", "{ key: a }"));
  const next = await ws.jobs(["run"], ENV);
  // retries: 0, but the killed attempt is a crash, not a failure: both claims run again.
  assert.equal(next.code, EXIT.ok, next.stderr);
  assert.deepEqual((await ws.lines("calls.log")).sort(), ["a", "a", "b"]);
  assert.match(
    next.stderr,
    new RegExp(`An earlier run crashed: process ${child.pid} on \\S+ is gone`),
  );
  const crashed = rx.bodies("/hook").filter((b) => b.kind === "crashed");
  assert.equal(crashed.length, 1);
  assert.match(
    String(crashed[0].text),
    new RegExp(
      `^jobctl: job slow: a run on \\S+ \\(pid ${child.pid}, started .*\\) crashed: process ${child.pid} on \\S+ is gone$`,
    ),
  );
});

Deno.test("ping: the runner's and the job's URLs after a good run, their fail URLs after a failed one", async () => {
  await using rx = startReceiver();
  await using ws = await workspace(
    rx,
    job(
      "feed",
      ["{ key: a }"],
      `    ping: { url: "${rx.url}/job", fail_url: "${rx.url}/job-down" }\n`,
    ),
    `runner:\n  ping: ${rx.url}/runner\n`,
  );
  assert.equal((await ws.jobs(["run"], ENV)).code, EXIT.ok);
  await ws.write(
    "jobs.yaml",
    (await Deno.readTextFile(ws.path("jobs.yaml"))).replace(
      "{ key: a }",
      "{ key: a }, { key: z, bad: true }",
    ),
  );
  assert.equal((await ws.jobs(["run"], ENV)).code, EXIT.failed);
  const pings = rx.received.filter((r) => r.method === "GET").map((r) => r.path).sort();
  assert.deepEqual(pings, ["/job", "/job-down", "/runner", "/runner/fail"]);
});
