/** The dashboard's HTTP server: routes, access checks, security headers. */
import type { Store } from "../db/store.ts";
import type { Config } from "../config/types.ts";

import type { Logger } from "../util/log.ts";
import { AccessGuard } from "./access.ts";
import { type ActionName, ACTIONS, noticeFor, runAction } from "./actions.ts";
import { type Asset, loadAssets } from "./assets.ts";
import type { PageContext } from "./context.ts";
import { CostHistory } from "./cost_history.ts";
import { type Html, html } from "./html.ts";
import { renderItemPage } from "./item_page.ts";
import { parseItemsQuery, renderItemsPage } from "./items_page.ts";
import { renderJobPage } from "./job_page.ts";
import { layout } from "./layout.ts";
import { renderOverview } from "./overview_page.ts";
import { eventsChoice } from "./recent_events.ts";
import { renderMetrics } from "../ops/metrics.ts";
import { EXPOSITION_TYPE } from "../ops/_exposition.ts";

/** Options of startDashboard(). */
export interface DashboardOptions {
  /** Address to listen on. Default "127.0.0.1". */
  hostname?: string;
  /** Port; 0 picks a free one. Default 8377. */
  port?: number;
  /** Secret every request must carry (Bearer header, or ?token= once for a cookie). Default none. */
  token?: string;
  /** Stops the server when aborted. */
  signal?: AbortSignal;
  /** Where request failures are logged. */
  log: Logger;
}

/** A running dashboard. */
export interface Dashboard {
  /** Its base URL, e.g. "http://127.0.0.1:8377/". */
  url: string;
  /** Resolves once the server has stopped. */
  finished: Promise<void>;
}

// Inline SVG needs no img-src; no inline script or style is ever sent. "same-origin" rather
// than "no-referrer": under no-referrer a browser sends "Origin: null" with the dashboard's own
// forms, which the Origin check refuses.
const SECURITY_HEADERS = {
  "content-security-policy":
    "default-src 'none'; style-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self'; " +
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "same-origin",
  "cache-control": "no-store",
};

/** Serves the dashboard of `db` and `config` until `options.signal` aborts. */
export async function startDashboard(
  db: Store,
  config: Config,
  options: DashboardOptions,
): Promise<Dashboard> {
  const hostname = options.hostname ?? "127.0.0.1";
  const guard = new AccessGuard(options.token, { hostname });
  const ctx: PageContext = {
    db,
    config,
    csrfToken: guard.csrfToken,
    now: Date.now,
    costHistory: new CostHistory(),
  };
  const assets = await loadAssets();
  const server = Deno.serve({
    hostname,
    port: options.port ?? 8377,
    signal: options.signal,
    onListen() {},
  }, async (request) => {
    const url = new URL(request.url);
    const denied = guard.admit(request, url);
    if (denied) return withHeaders(denied);
    try {
      return withHeaders(await route(ctx, { request, url, guard, assets }));
    } catch (err) {
      options.log.error(`Dashboard request failed: ${request.method} ${url.pathname}`, {
        error: (err as Error).message,
      });
      return withHeaders(page(
        500,
        "Error",
        html`
          <h1>Something went wrong</h1>
          <p>${(err as Error).message}</p>
        `,
      ));
    }
  });
  const addr = server.addr;
  const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
  return { url: `http://${host}:${addr.port}/`, finished: server.finished };
}

interface Incoming {
  request: Request;
  url: URL;
  guard: AccessGuard;
  assets: Map<string, Asset>;
}

async function route(ctx: PageContext, incoming: Incoming): Promise<Response> {
  const { request, url } = incoming;
  const parts = pathParts(url.pathname);
  if (parts === undefined) return page(400, "Bad request", html`<h1>Malformed address</h1>`);
  const method = request.method;
  if (parts[0] === "assets" && parts.length === 2 && method === "GET") {
    const asset = incoming.assets.get(parts[1]);
    return asset
      ? new Response(asset.body, { headers: { "content-type": asset.contentType } })
      : notFound();
  }
  if (parts.length === 0 && method === "GET") return ok(await renderOverview(ctx));
  if (parts[0] === "metrics" && parts.length === 1 && method === "GET") {
    const text = await renderMetrics(ctx.db, ctx.config, ctx.now());
    return new Response(text, { headers: { "content-type": EXPOSITION_TYPE } });
  }
  // Browsers ask for it on their own; there is none.
  if (parts[0] === "favicon.ico" && parts.length === 1) return new Response(null, { status: 204 });
  if (parts[0] !== "jobs" || parts.length < 2) return notFound();
  const jobId = parts[1];
  const notice = noticeFor(url.searchParams);
  if (parts.length === 2 && method === "GET") {
    const events = eventsChoice(url.searchParams);
    return found(await renderJobPage(ctx, { jobId, notice, events }));
  }
  if (parts.length === 3 && parts[2] === "items" && method === "GET") {
    return await itemsListing(ctx, jobId, url.searchParams);
  }
  if (parts.length === 4 && parts[2] === "items" && method === "GET") {
    return found(await renderItemPage(ctx, { jobId, key: parts[3], notice }));
  }
  if (parts.length === 3 && (ACTIONS as readonly string[]).includes(parts[2])) {
    if (method !== "POST") {
      return new Response("Use POST\n", { status: 405, headers: { allow: "POST" } });
    }
    return await post(ctx, incoming, { jobId, action: parts[2] as ActionName });
  }
  return notFound();
}

async function itemsListing(
  ctx: PageContext,
  jobId: string,
  params: URLSearchParams,
): Promise<Response> {
  const job = ctx.config.jobs.find((j) => j.id === jobId);
  if (!job) return notFound();
  const query = parseItemsQuery(job, params);
  if (typeof query === "string") {
    return page(
      400,
      "Bad request",
      html`
        <h1>Cannot list these items</h1>
        <p>${query}</p>
      `,
    );
  }
  return ok(await renderItemsPage(ctx, { job, query }));
}

async function post(
  ctx: PageContext,
  incoming: Incoming,
  target: { jobId: string; action: ActionName },
): Promise<Response> {
  const form = await incoming.request.formData().catch(() => new FormData());
  if (!incoming.guard.validCsrf(form.get("csrf"))) {
    return page(
      403,
      "Forbidden",
      html`
        <h1>This form has expired</h1>
        <p>Reload the page and try again: its security token does not match this dashboard.</p>
      `,
    );
  }
  if (!ctx.config.jobs.some((j) => j.id === target.jobId)) return notFound();
  return await runAction(ctx, { ...target, form });
}

/** The decoded segments of `pathname`, or undefined when one is not valid percent-encoding. */
function pathParts(pathname: string): string[] | undefined {
  try {
    return pathname.split("/").filter((p) => p !== "").map(decodeURIComponent);
  } catch {
    return undefined;
  }
}

function ok(body: Html): Response {
  return new Response(body.value, { headers: { "content-type": "text/html; charset=utf-8" } });
}

function found(body: Html | undefined): Response {
  return body ? ok(body) : notFound();
}

function notFound(): Response {
  return page(
    404,
    "Not found",
    html`
      <h1>Not found</h1>
      <p><a href="/">Back to the overview</a></p>
    `,
  );
}

function page(status: number, title: string, body: Html): Response {
  return new Response(layout(body, { title, crumbs: [{ label: title }], now: Date.now() }).value, {
    status,
    headers: { "content-type": "text/html; charset=utf-8" },
  });
}

function withHeaders(response: Response): Response {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) {
    if (!response.headers.has(name)) response.headers.set(name, value);
  }
  return response;
}
