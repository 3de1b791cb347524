/** Test helpers for discovery: a route table served on 127.0.0.1 and a discovery env on a temp db. */
import type { Store } from "../../src/db/store.ts";
import type { DiscoveryEnv, DiscoveryResult } from "../../src/discovery/base.ts";
import { openDb } from "../../src/db/mod.ts";
import { testStore } from "../_test_store.ts";
import type { Logger } from "../../src/util/log.ts";
import type { Clock } from "../../src/util/time.ts";

/** A request the server received. */
export interface Hit {
  method: string;
  /** Path and query, e.g. "/feed.xml?page=2". */
  path: string;
  headers: Headers;
}

/** Answers a request; `hit` counts requests to the same path, from 1. */
export type Route = (req: Request, hit: number) => Response | Promise<Response>;

/** A running test server; `await using` closes it. */
export interface TestServer extends AsyncDisposable {
  /** "http://127.0.0.1:PORT". */
  origin: string;
  /** Every request in arrival order. */
  hits: Hit[];
  /** Absolute URL of `path` on this server. */
  url(path: string): string;
  /** Requests whose path (without query) is `pathname`. */
  count(pathname: string): number;
}

/** Serves `routes` (keyed by pathname) on a free loopback port; other paths answer 404. */
export function serveRoutes(routes: Record<string, Route>): TestServer {
  const hits: Hit[] = [];
  const counts = new Map<string, number>();
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, (req) => {
    const url = new URL(req.url);
    hits.push({ method: req.method, path: url.pathname + url.search, headers: req.headers });
    const hit = (counts.get(url.pathname) ?? 0) + 1;
    counts.set(url.pathname, hit);
    const route = routes[url.pathname];
    return route ? route(req, hit) : new Response("not found", { status: 404 });
  });
  const origin = `http://127.0.0.1:${server.addr.port}`;
  return {
    origin,
    hits,
    url: (path) => origin + path,
    count: (pathname) => counts.get(pathname) ?? 0,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

/** A response with a body and headers; status 200 unless given. */
export function reply(body: BodyInit | null, headers: HeadersInit = {}, status = 200): Response {
  return new Response(body, { status, headers });
}

/** A logged line. */
export interface LogLine {
  level: "info" | "warn" | "error";
  message: string;
  data?: Record<string, unknown>;
}

/** A discovery env on a fresh store (see testStore) and a temp folder; `await using` removes both. */
export interface TestEnv extends AsyncDisposable {
  env: DiscoveryEnv;
  db: Store;
  /** The temp folder, also the env's configDir. */
  dir: string;
  /** Lines logged through env.log. */
  logs: LogLine[];
}

/** Creates a TestEnv for job `jobId` (default "test"). */
export async function testEnv(
  options: { jobId?: string; now?: () => number; clock?: Clock } = {},
): Promise<TestEnv> {
  const dir = await Deno.makeTempDir({ prefix: "jobs-discovery-" });
  const store = await testStore(dir);
  const db = await openDb(store.location);
  const logs: LogLine[] = [];
  const log: Logger = {
    info: (message, data) => logs.push({ level: "info", message, data }),
    warn: (message, data) => logs.push({ level: "warn", message, data }),
    error: (message, data) => logs.push({ level: "error", message, data }),
  };
  const env: DiscoveryEnv = {
    db,
    jobId: options.jobId ?? "test",
    configDir: dir,
    log,
    now: options.now,
    clock: options.clock,
  };
  return {
    env,
    db,
    dir,
    logs,
    async [Symbol.asyncDispose]() {
      await db.close();
      await store.drop();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** Runs a discovery and stores its validators, as a run does once the items are recorded. */
export async function discoverAndRecord(
  discovery: { discover(): Promise<DiscoveryResult> },
  db: Store,
): Promise<DiscoveryResult> {
  const result = await discovery.discover();
  for (const entry of result.validators) await db.putHttpCache(entry);
  return result;
}

/** A result to compare: its items read, its validators by URL. */
export function readResult(result: DiscoveryResult): Record<string, unknown> {
  return { ...result, items: [...result.items], validators: result.validators.map((v) => v.url) };
}
