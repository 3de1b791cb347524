/**
 * OpenTelemetry spans of a run, through Deno's built-in OpenTelemetry (OTEL_DENO=true; OTLP
 * export set by the standard OTEL_EXPORTER_OTLP_* variables): one span per (item, stage) attempt,
 * with the handler's fetch calls as its children, one per batch call (its items' attempts and its
 * fetches as children), and one per discovery. With OpenTelemetry
 * off nothing is made at all, so the runner pays nothing for it.
 */
import type { Context, Span } from "@opentelemetry/api";

/** Whether this process exports spans: Deno's OpenTelemetry is on. */
const ENABLED: boolean = otelEnabled();

/** The OpenTelemetry API, loaded only when spans are exported (loading it costs start-up time). */
const otel = ENABLED ? await import("@opentelemetry/api") : undefined;

function otelEnabled(): boolean {
  try {
    const value = Deno.env.get("OTEL_DENO")?.toLowerCase();
    return value === "true" || value === "1";
  } catch {
    // No --allow-env: Deno's OpenTelemetry cannot be on either.
    return false;
  }
}

/** The span of one attempt: the handler runs inside it, and it ends with the outcome. */
export interface AttemptSpan {
  /** Runs `fn` with this span as the active one, so that its fetch calls become children. */
  run<T>(fn: () => Promise<T>): Promise<T>;
  /** Ends the span: done, skipped, retry, failed or released (at shutdown). */
  end(outcome: string, error?: string): void;
}

/** What an attempt span records. */
export interface AttemptInfo {
  job: string;
  stage: string;
  key: string;
  attempt: number;
  handlerVersion: string | null;
}

/** A span for one (item, stage) attempt, or undefined when OpenTelemetry is off. */
export function startAttemptSpan(info: AttemptInfo): AttemptSpan | undefined {
  return otel && attemptSpan(info, otel.context.active());
}

/** The span of one batch call: the items' attempt spans and the call's fetches are its children. */
export interface BatchSpan extends AttemptSpan {
  /** The span of one item's attempt in this batch. */
  attempt(info: AttemptInfo): AttemptSpan;
}

/** A span for one call of a batch handler on `size` items, or undefined when OpenTelemetry is off. */
export function startBatchSpan(
  info: Omit<AttemptInfo, "key" | "attempt"> & { size: number },
): BatchSpan | undefined {
  if (!otel) return undefined;
  const { span, active } = openSpan(`batch ${info.job}/${info.stage}`, {
    "jobctl.job": info.job,
    "jobctl.stage": info.stage,
    "jobctl.batch.size": info.size,
    "jobctl.handler.version": info.handlerVersion ?? "",
  }, otel.context.active());
  return { ...span, attempt: (attempt) => attemptSpan(attempt, active) };
}

function attemptSpan(info: AttemptInfo, parent: Context): AttemptSpan {
  return openSpan(`stage ${info.job}/${info.stage}`, {
    "jobctl.job": info.job,
    "jobctl.stage": info.stage,
    "jobctl.item.key": info.key,
    "jobctl.attempt": info.attempt,
    "jobctl.handler.version": info.handlerVersion ?? "",
  }, parent).span;
}

/** Starts a span under `parent`: what runs in it, ends it, and the context it makes active. */
function openSpan(
  name: string,
  attributes: Record<string, string | number>,
  parent: Context,
): { span: AttemptSpan; active: Context } {
  const { context, trace } = otel!;
  const span = trace.getTracer("jobctl").startSpan(name, { attributes }, parent);
  const active = trace.setSpan(parent, span);
  return {
    span: {
      run: (fn) => context.with(active, fn),
      end: (outcome, error) => finish(span, outcome, error),
    },
    active,
  };
}

/** Runs one discovery of `job` inside a span, recording what `describe` says of its result. */
export async function traceDiscovery<T>(
  job: string,
  discover: () => Promise<T>,
  describe: (result: T) => { found: number; added?: number; error?: string },
): Promise<T> {
  if (!otel) return await discover();
  return await otel.trace.getTracer("jobctl").startActiveSpan(`discovery ${job}`, async (span) => {
    span.setAttribute("jobctl.job", job);
    try {
      const result = await discover();
      const what = describe(result);
      span.setAttribute("jobctl.discovery.found", what.found);
      if (what.added !== undefined) span.setAttribute("jobctl.discovery.added", what.added);
      finish(span, what.error ? "failed" : "done", what.error);
      return result;
    } catch (err) {
      finish(span, "failed", (err as Error).message);
      throw err;
    }
  });
}

function finish(span: Span, outcome: string, error?: string): void {
  span.setAttribute("jobctl.outcome", outcome);
  if (error !== undefined) span.setStatus({ code: otel!.SpanStatusCode.ERROR, message: error });
  span.end();
}
