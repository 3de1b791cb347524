/**
 * Loads one handler module for `jobctl validate` (and to read its HANDLER_VERSION), in a Worker
 * so that the module cannot end or block the process: it answers how the module's default
 * export looks and its version, or what went wrong while loading it. Deno.exit (and node's
 * process.exit, which calls it) throws here instead of ending anything, so a module calling it
 * is reported.
 */
import { EXIT_CALLED, type ProbeReply } from "./_module_probe.ts";

const scope = globalThis as unknown as {
  postMessage(message: ProbeReply): void;
  addEventListener(type: "message", listener: (event: MessageEvent) => void): void;
};

// What a module prints while it loads would land in the output of the command probing it
// (`jobctl status --json`, say): it is dropped.
for (const name of ["log", "info", "debug", "warn", "error", "trace", "dir", "table"] as const) {
  console[name] = () => {};
}

Object.defineProperty(Deno, "exit", {
  configurable: true,
  value: (code?: number): never => {
    const error = new Error(`Deno.exit(${code ?? ""})`);
    error.name = EXIT_CALLED;
    throw error;
  },
});

scope.addEventListener("message", async (event) => {
  try {
    const module = await import((event.data as { url: string }).url);
    const declared = module.HANDLER_VERSION;
    scope.postMessage({
      kind: "loaded",
      defaultType: typeof module.default,
      version: declared === undefined ? null : String(declared),
    });
  } catch (err) {
    const error = err instanceof Error ? err : new Error(String(err));
    scope.postMessage({
      kind: "failed",
      name: error.name,
      message: error.message,
      stack: error.stack ?? "",
    });
  }
});
