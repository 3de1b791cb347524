/**
 * Keeps module handlers, which run inside this process, from ending the run. While the guard is
 * installed, Deno.exit() and process.exit() throw instead of exiting, and an error that escapes a
 * handler later — thrown in one of its timers, or a rejection nobody handles — is caught instead
 * of ending the process. Each error goes to the claim whose handler caused it: every handler call
 * runs in an AsyncLocalStorage scope, which its timers and promises carry with them.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import process from "node:process";

/** Takes the errors that escape one claim's handler. */
export type StrayCatcher = (error: unknown) => void;

/** Thrown by Deno.exit() and process.exit() while the guard is installed. */
export class HandlerExitError extends Error {
  override name = "HandlerExitError";
  /** Calling exit again would not help: the stage fails without retries. */
  readonly permanent = true;
}

/** An error that escaped a handler outside its own call: from a timer or an unawaited promise. */
export class UncaughtError extends Error {
  override name = "UncaughtError";
}

/** Options of guardHandlers(). */
export interface GuardOptions {
  /** Told of an error that escaped outside any handler's scope, with where it was thrown. */
  onUnscoped(error: unknown, where: string | undefined): void;
}

type LooseTimer = (fn: unknown, ...rest: unknown[]) => unknown;

const scopes = new AsyncLocalStorage<StrayCatcher>();
/** Errors already given to a catcher, so that one rethrown later is not reported twice. */
const caught = new WeakSet<object>();

/** Calls `fn` (a handler) so that errors escaping it, now or later, go to `catcher`. */
export function runCaught<T>(catcher: StrayCatcher, fn: () => T): T {
  return scopes.run(catcher, fn);
}

/**
 * Calls `fn` outside any handler's scope, for what a handler call starts that outlives it (a
 * worker process read by the runner): its errors are the runner's, not that handler's.
 */
export function outsideHandlers<T>(fn: () => T): T {
  return scopes.exit(fn);
}

/** Installs the guard for the whole process; the returned function removes it. */
export function guardHandlers(options: GuardOptions): () => void {
  const deno = Deno as { exit: (code?: number) => never };
  const proc = process as unknown as { exit: (code?: number) => never };
  const saved = {
    denoExit: deno.exit,
    processExit: proc.exit,
    setTimeout: globalThis.setTimeout,
    setInterval: globalThis.setInterval,
    queueMicrotask: globalThis.queueMicrotask,
  };
  const route = (error: unknown, where?: string) => {
    if (error !== null && typeof error === "object") {
      if (caught.has(error)) return;
      caught.add(error);
    }
    const catcher = scopes.getStore();
    if (catcher) catcher(error);
    else options.onUnscoped(error, where);
  };
  deno.exit = refuseExit("Deno.exit", route);
  proc.exit = refuseExit("process.exit", route);
  const timer = (original: LooseTimer) => (fn: unknown, ...rest: unknown[]) =>
    original(catching(fn, route), ...rest);
  globalThis.setTimeout = timer(saved.setTimeout as LooseTimer) as typeof setTimeout;
  globalThis.setInterval = timer(saved.setInterval as LooseTimer) as typeof setInterval;
  globalThis.queueMicrotask = (fn) => saved.queueMicrotask(catching(fn, route) as VoidFunction);
  const onError = (event: ErrorEvent) => {
    event.preventDefault();
    const where = event.filename ? `${event.filename}:${event.lineno}:${event.colno}` : undefined;
    route(event.error, where);
  };
  const onRejection = (event: PromiseRejectionEvent) => {
    event.preventDefault();
    route(event.reason);
  };
  globalThis.addEventListener("error", onError);
  globalThis.addEventListener("unhandledrejection", onRejection);
  return () => {
    deno.exit = saved.denoExit;
    proc.exit = saved.processExit;
    globalThis.setTimeout = saved.setTimeout;
    globalThis.setInterval = saved.setInterval;
    globalThis.queueMicrotask = saved.queueMicrotask;
    globalThis.removeEventListener("error", onError);
    globalThis.removeEventListener("unhandledrejection", onRejection);
  };
}

function refuseExit(name: string, route: (error: unknown) => void): (code?: number) => never {
  return (code) => {
    const error = new HandlerExitError(
      `${name}(${code ?? ""}) was called by a handler; a handler must return or throw`,
    );
    route(error);
    throw error;
  };
}

/**
 * `fn` made to give what it throws to the current scope's catcher; unchanged outside a scope
 * (the runner's own timers), so that they cost nothing more.
 */
function catching(fn: unknown, route: (error: unknown) => void): unknown {
  if (typeof fn !== "function" || scopes.getStore() === undefined) return fn;
  return function (this: unknown, ...args: unknown[]) {
    try {
      return fn.apply(this, args);
    } catch (err) {
      route(err);
    }
  };
}
