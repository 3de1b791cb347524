/**
 * A small Chrome DevTools Protocol client for driving Debian's headless Chromium in tests:
 * navigate, read the DOM, click with real mouse events, type and press keys, answer dialogs,
 * screenshot.
 * (playwright-core cannot load under the test permissions: it probes a /proc path that Deno
 * opens only with --allow-all.)
 */

/** Flags Chromium runs with: headless, no sandbox (root in CI), nothing fetched from outside. */
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

import { withDeadline } from "../_deadline.ts";

const CHROMIUM = "/usr/bin/chromium";
const TIMEOUT_MS = 10_000;
/** How long a DevTools command may go unanswered (a page's script may be slow under load). */
const ANSWER_TIMEOUT_MS = 30_000;

type Message = {
  id?: number;
  method?: string;
  params?: Record<string, unknown>;
  sessionId?: string;
  result?: Record<string, unknown>;
  error?: { message: string };
};

/** One WebSocket to the browser; pages are sessions on it. */
class Connection {
  #next = 1;
  readonly #pending = new Map<number, (m: Message) => void>();
  readonly #listeners = new Set<(m: Message) => void>();

  constructor(readonly socket: WebSocket) {
    socket.onmessage = (event) => {
      const message = JSON.parse(event.data) as Message;
      if (message.id !== undefined) this.#pending.get(message.id)?.(message);
      else for (const listener of this.#listeners) listener(message);
    };
    // A browser that went away answers every pending command with an error.
    socket.onclose = () => {
      for (const answer of this.#pending.values()) {
        answer({ error: { message: "connection closed" } });
      }
    };
  }

  /** Sends a command and resolves with its result; a protocol error or no answer rejects. */
  send(method: string, params: Record<string, unknown> = {}, sessionId?: string) {
    const id = this.#next++;
    this.socket.send(JSON.stringify({ id, method, params, sessionId }));
    const answer = new Promise<Record<string, unknown>>((resolve, reject) => {
      this.#pending.set(id, (m) => {
        this.#pending.delete(id);
        if (m.error) reject(new Error(`${method}: ${m.error.message}`));
        else resolve(m.result ?? {});
      });
    });
    return withDeadline(`Chromium to answer ${method}`, ANSWER_TIMEOUT_MS, answer, () => {
      this.#pending.delete(id);
    });
  }

  /** Calls `listener` with every event until the returned function is called. */
  listen(listener: (m: Message) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

/** A headless Chromium process with a throwaway profile. */
export class Browser implements AsyncDisposable {
  private constructor(
    readonly process: Deno.ChildProcess,
    readonly connection: Connection,
    readonly profile: string,
  ) {}

  /** Starts Chromium and connects to its DevTools endpoint. */
  static async launch(): Promise<Browser> {
    const profile = await Deno.makeTempDir({ prefix: "jobs-chromium-" });
    const process = new Deno.Command(CHROMIUM, {
      args: [...CHROMIUM_ARGS, "--remote-debugging-port=0", `--user-data-dir=${profile}`],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const timer = setTimeout(() => process.kill(), TIMEOUT_MS);
    try {
      const endpoint = await devtoolsEndpoint(process.stderr).finally(() => clearTimeout(timer));
      return new Browser(process, new Connection(await connect(endpoint)), profile);
    } catch (err) {
      try {
        process.kill();
      } catch {
        // It has already exited.
      }
      await withDeadline("Chromium to exit", TIMEOUT_MS, process.status);
      await Deno.remove(profile, { recursive: true });
      throw err;
    }
  }

  /** A new tab of `width` × `height` pixels. */
  async newPage(viewport = { width: 1280, height: 900 }): Promise<Page> {
    const { targetId } = await this.connection.send("Target.createTarget", {
      url: "about:blank",
      newWindow: true,
    });
    const { sessionId } = await this.connection.send("Target.attachToTarget", {
      targetId,
      flatten: true,
    });
    const page = new Page(this.connection, sessionId as string);
    for (const domain of ["Page.enable", "Network.enable", "Runtime.enable"]) {
      await page.send(domain);
    }
    await page.send("Emulation.setDeviceMetricsOverride", {
      ...viewport,
      deviceScaleFactor: 1,
      mobile: false,
    });
    return page;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.connection.send("Browser.close").catch(() => {});
    this.connection.socket.close();
    await withDeadline("Chromium to exit", TIMEOUT_MS, this.process.status, () => {
      this.process.kill("SIGKILL");
    });
    await Deno.remove(this.profile, { recursive: true });
  }
}

async function connect(endpoint: string): Promise<WebSocket> {
  const socket = new WebSocket(endpoint);
  await withDeadline(
    `a connection to Chromium at ${endpoint}`,
    TIMEOUT_MS,
    new Promise((resolve, reject) => {
      socket.onopen = resolve;
      socket.onerror = () => reject(new Error(`Cannot connect to Chromium at ${endpoint}`));
    }),
  );
  return socket;
}

/** Reads Chromium's stderr until it names its WebSocket endpoint, then keeps draining it. */
async function devtoolsEndpoint(stderr: ReadableStream<Uint8Array>): Promise<string> {
  const reader = stderr.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (true) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`Chromium exited before listening:\n${text}`);
    text += value;
    const url = text.match(/DevTools listening on (ws:\/\/\S+)/)?.[1];
    if (url) {
      (async () => {
        while (!(await reader.read()).done) { /* Chromium's log is not needed. */ }
      })();
      return url;
    }
  }
}

/** One tab. */
export class Page {
  /** Messages of the dialogs (confirm, alert) seen so far; each was accepted. */
  readonly dialogs: string[] = [];
  #status = 0;

  constructor(readonly connection: Connection, readonly sessionId: string) {
    connection.listen((m) => {
      if (m.sessionId !== sessionId) return;
      if (m.method === "Page.javascriptDialogOpening") {
        this.dialogs.push(m.params?.message as string);
        this.send("Page.handleJavaScriptDialog", { accept: true });
      }
      const response = m.params?.response as { status: number } | undefined;
      if (m.method === "Network.responseReceived" && m.params?.type === "Document" && response) {
        this.#status = response.status;
      }
    });
  }

  /** Sends a command to this tab. */
  send(method: string, params: Record<string, unknown> = {}) {
    return this.connection.send(method, params, this.sessionId);
  }

  /** Opens `url` and waits for it to load; returns the HTTP status of the final document. */
  async goto(url: string): Promise<number> {
    return await this.navigation(() => this.send("Page.navigate", { url }));
  }

  /** Runs `action`, then waits for the page it causes to load; returns its HTTP status. */
  async navigation(action: () => Promise<unknown>): Promise<number> {
    let stop = () => {};
    const loaded = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("No page loaded in time")), TIMEOUT_MS);
      const unlisten = this.connection.listen((m) => {
        if (m.sessionId === this.sessionId && m.method === "Page.loadEventFired") resolve();
      });
      stop = () => {
        clearTimeout(timer);
        unlisten();
      };
    });
    try {
      await action();
      await loaded;
      return this.#status;
    } finally {
      stop();
    }
  }

  /** The value of a JavaScript expression in the page (awaited, returned by value). */
  async evaluate<T>(expression: string): Promise<T> {
    const reply = await this.send("Runtime.evaluate", {
      expression,
      returnByValue: true,
      awaitPromise: true,
    });
    const failure = reply.exceptionDetails as { exception?: { description?: string } } | undefined;
    if (failure) throw new Error(failure.exception?.description ?? `Failed: ${expression}`);
    return (reply.result as { value: T }).value;
  }

  /** The text of the first element matching `selector`; throws when there is none. */
  async text(selector: string): Promise<string> {
    return await this.evaluate<string>(`(() => {
      const el = document.querySelector(${JSON.stringify(selector)});
      if (!el) throw new Error("No element matches " + ${JSON.stringify(selector)});
      return el.textContent;
    })()`);
  }

  /** Clicks the middle of the element at `selector` with real mouse events. */
  async click(selector: string): Promise<void> {
    const { x, y } = await this.evaluate<{ x: number; y: number }>(`(() => {
      const el = document.querySelector(${JSON.stringify(selector)});
      if (!el) throw new Error("No element matches " + ${JSON.stringify(selector)});
      el.scrollIntoView({ block: "center" });
      const r = el.getBoundingClientRect();
      return { x: r.left + r.width / 2, y: r.top + r.height / 2 };
    })()`);
    for (const type of ["mousePressed", "mouseReleased"]) {
      await this.send("Input.dispatchMouseEvent", { type, x, y, button: "left", clickCount: 1 });
    }
  }

  /** Clicks `selector` and waits for the page the click leads to. */
  async clickAndWait(selector: string): Promise<number> {
    return await this.navigation(() => this.click(selector));
  }

  /** Focuses the field at `selector` and types `text` into it. */
  async type(selector: string, text: string): Promise<void> {
    await this.click(selector);
    await this.send("Input.insertText", { text });
  }

  /** Focuses the element at `selector` and presses the keys of `text` there, one by one. */
  async press(selector: string, text: string): Promise<void> {
    await this.evaluate(`(() => {
      const el = document.querySelector(${JSON.stringify(selector)});
      if (!el) throw new Error("No element matches " + ${JSON.stringify(selector)});
      el.focus();
    })()`);
    for (const key of text) {
      await this.send("Input.dispatchKeyEvent", { type: "keyDown", key, text: key });
      await this.send("Input.dispatchKeyEvent", { type: "keyUp", key });
    }
  }

  /** The page's current URL. */
  async url(): Promise<URL> {
    return new URL(await this.evaluate<string>("location.href"));
  }

  /** Saves a PNG of the whole page, beyond the viewport. */
  async screenshot(path: string): Promise<void> {
    const { cssContentSize } = await this.send("Page.getLayoutMetrics") as {
      cssContentSize: { width: number; height: number };
    };
    const { data } = await this.send("Page.captureScreenshot", {
      format: "png",
      captureBeyondViewport: true,
      clip: { x: 0, y: 0, width: cssContentSize.width, height: cssContentSize.height, scale: 1 },
    });
    const bytes = Uint8Array.from(atob(data as string), (c) => c.charCodeAt(0));
    await Deno.writeFile(path, bytes);
  }
}
