/** A real HTTP server on 127.0.0.1 that records what webhooks and pings send it. */

/** One request as received. */
export interface Received {
  method: string;
  path: string;
  body: Record<string, unknown> | null;
  headers: Headers;
}

/** How the receiver answers: normally, with an error, or never. */
export type ReceiverMode = "ok" | "error" | "hang";

/** A recording server; closed on dispose. */
export interface Receiver extends AsyncDisposable {
  url: string;
  received: Received[];
  /** Requests of `path`'s bodies. */
  bodies(path: string): Record<string, unknown>[];
  mode: ReceiverMode;
}

/** Starts a receiver on a free port of 127.0.0.1. */
export function startReceiver(): Receiver {
  const hung: (() => void)[] = [];
  const state: Receiver = {
    url: "",
    received: [],
    mode: "ok",
    bodies: (path) => state.received.filter((r) => r.path === path).map((r) => r.body!),
    async [Symbol.asyncDispose]() {
      hung.splice(0).forEach((release) => release());
      await server.shutdown();
    },
  };
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const text = await req.text();
    if (state.mode === "hang") {
      await new Promise<void>((resolve) => hung.push(resolve));
      return new Response("late");
    }
    // A refused delivery is not received.
    if (state.mode === "error") return new Response("down", { status: 503 });
    state.received.push({
      method: req.method,
      path: new URL(req.url).pathname,
      body: text ? JSON.parse(text) : null,
      headers: req.headers,
    });
    return new Response("ok");
  });
  state.url = `http://127.0.0.1:${server.addr.port}`;
  return state;
}
