import assert from "node:assert/strict";
import { EXIT } from "../../src/cli/mod.ts";
import { waitFor, Workspace } from "./_helpers.ts";

// Fetches the receiver's /page once per item through ctx.fetch; fails item "bad".
const HANDLER = (base: string) =>
  `export const HANDLER_VERSION = "7";
export default async function handle(item, ctx) {
  const res = await ctx.fetch("${base}/page?item=" + item.key);
  await res.text();
  if (item.key === "bad") throw new Error("no good");
  return { status: res.status };
}
`;

interface OtlpSpan {
  name: string;
  kind: number;
  spanId: string;
  parentSpanId: string;
  traceId: string;
  attributes: { key: string; value: Record<string, unknown> }[];
  status: { code: number; message?: string };
}

/** A receiver of OTLP/HTTP JSON traces and of the handler's page requests, on 127.0.0.1. */
function collector() {
  const spans: OtlpSpan[] = [];
  let pages = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const path = new URL(req.url).pathname;
    if (path === "/v1/traces") {
      const body = await req.json();
      for (const rs of body.resourceSpans) {
        for (const ss of rs.scopeSpans) spans.push(...ss.spans);
      }
      return Response.json({});
    }
    pages++;
    return new Response("page");
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    spans,
    pages: () => pages,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

function attrs(span: OtlpSpan): Record<string, unknown> {
  return Object.fromEntries(span.attributes.map((a) => [a.key, Object.values(a.value)[0]]));
}

const YAML = `jobs:
  feed:
    discovery: { strategy: static, items: [{ key: a }, { key: bad }] }
    stages:
      - { name: get, handler: ./h.ts, retries: 0 }
`;

Deno.test("with OTEL_DENO a run exports a span per attempt and per discovery, fetches as children", async () => {
  await using rx = collector();
  await using ws = await Workspace.create({ "h.ts": HANDLER(rx.url), "jobs.yaml": YAML });
  const out = await ws.jobs(["run"], {
    OTEL_DENO: "true",
    OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
    OTEL_EXPORTER_OTLP_ENDPOINT: rx.url,
    OTEL_BSP_SCHEDULE_DELAY: "100",
    OTEL_SERVICE_NAME: "jobctl",
  });
  assert.equal(out.code, EXIT.failed, out.stderr);
  const stage = (key: string) =>
    rx.spans.find((s) => s.name === "stage feed/get" && attrs(s)["jobctl.item.key"] === key);
  await waitFor(
    "the spans to arrive",
    () => stage("a") !== undefined && stage("bad") !== undefined,
  );
  const [a, bad] = [stage("a")!, stage("bad")!];
  assert.deepEqual(attrs(a), {
    "jobctl.job": "feed",
    "jobctl.stage": "get",
    "jobctl.item.key": "a",
    "jobctl.attempt": 1,
    "jobctl.handler.version": "7",
    "jobctl.outcome": "done",
  });
  assert.equal(attrs(bad)["jobctl.outcome"], "failed");
  assert.deepEqual([bad.status.code, bad.status.message], [2, "Error: no good"]);
  // Each attempt's fetch is a client span (kind 3) whose parent is the attempt.
  for (const span of [a, bad]) {
    const fetches = rx.spans.filter((s) => s.kind === 3 && s.parentSpanId === span.spanId);
    assert.equal(fetches.length, 1, `one fetch under ${attrs(span)["jobctl.item.key"]}`);
    assert.equal(fetches[0].traceId, span.traceId);
  }
  const discovery = rx.spans.find((s) => s.name === "discovery feed")!;
  assert.deepEqual(
    [attrs(discovery)["jobctl.discovery.found"], attrs(discovery)["jobctl.discovery.added"]],
    [2, 2],
  );
});

Deno.test("without OTEL_DENO a run exports nothing", async () => {
  await using rx = collector();
  await using ws = await Workspace.create({ "h.ts": HANDLER(rx.url), "jobs.yaml": YAML });
  const out = await ws.jobs(["run"], {
    OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
    OTEL_EXPORTER_OTLP_ENDPOINT: rx.url,
  });
  assert.equal(out.code, EXIT.failed, out.stderr);
  assert.equal(rx.pages(), 2, "the handlers ran");
  assert.deepEqual(rx.spans, []);
});

Deno.test("a batch stage exports a span per call, its items' attempts and its fetch as children", async () => {
  await using rx = collector();
  await using ws = await Workspace.create({
    "h.ts": `export default async function handle(items, ctx) {
  await (await ctx.fetch("${rx.url}/page?batch")).text();
  return Object.fromEntries(items.map((i) => [i.key, i.key === "bad"
    ? { kind: "fail", message: "no good" }
    : { kind: "result", result: 1 }]));
}
`,
    "jobs.yaml": YAML.replace("retries: 0 }", "retries: 0, batch: { size: 2, wait: 0 } }"),
  });
  const out = await ws.jobs(["run"], {
    OTEL_DENO: "true",
    OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
    OTEL_EXPORTER_OTLP_ENDPOINT: rx.url,
    OTEL_BSP_SCHEDULE_DELAY: "100",
  });
  assert.equal(out.code, EXIT.failed, out.stderr);
  const stages = () => rx.spans.filter((s) => s.name === "stage feed/get");
  await waitFor("the spans to arrive", () => stages().length === 2);
  const byKey = Object.fromEntries(
    stages().map((s) => [attrs(s)["jobctl.item.key"], attrs(s)["jobctl.outcome"]]),
  );
  assert.deepEqual(byKey, { a: "done", bad: "failed" });
  const bad = stages().find((s) => attrs(s)["jobctl.item.key"] === "bad")!;
  assert.deepEqual([bad.status.code, bad.status.message], [2, "no good"]);
  await waitFor("the batch's span", () => rx.spans.some((s) => s.name === "batch feed/get"));
  const batch = rx.spans.find((s) => s.name === "batch feed/get")!;
  assert.deepEqual(attrs(batch), {
    "jobctl.job": "feed",
    "jobctl.stage": "get",
    "jobctl.batch.size": 2,
    "jobctl.handler.version": "",
    "jobctl.outcome": "done",
  });
  assert.deepEqual(stages().map((s) => [s.parentSpanId, s.traceId]), [
    [batch.spanId, batch.traceId],
    [batch.spanId, batch.traceId],
  ]);
  await waitFor("the fetch's span", () => rx.spans.some((s) => s.kind === 3));
  const fetches = rx.spans.filter((s) => s.kind === 3);
  assert.deepEqual(fetches.map((s) => s.parentSpanId), [batch.spanId]);
});
