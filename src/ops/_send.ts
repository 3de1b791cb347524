/** Delivering one notification to one target: a webhook POST or a program's stdin. */
import type { NotifyTarget } from "../config/types.ts";

/** Sends `body` (JSON) to `target`; resolves with an error text, or undefined when delivered. */
export async function sendTo(target: NotifyTarget, body: string): Promise<string | undefined> {
  try {
    return target.kind === "webhook"
      ? await postWebhook(target, body)
      : await runCommand(target, body);
  } catch (err) {
    return `${target.label}: ${(err as Error).message}`;
  }
}

async function postWebhook(
  target: NotifyTarget & { kind: "webhook" },
  body: string,
): Promise<string | undefined> {
  const response = await fetch(target.url, {
    method: "POST",
    headers: { "content-type": "application/json", ...target.headers },
    body,
    signal: AbortSignal.timeout(target.timeoutMs),
  });
  await response.body?.cancel();
  return response.ok ? undefined : `${target.label}: HTTP ${response.status}`;
}

/** The program gets `body` on stdin, without a shell; exit 0 means delivered. */
async function runCommand(
  target: NotifyTarget & { kind: "command" },
  body: string,
): Promise<string | undefined> {
  const [program, ...args] = target.argv;
  const child = new Deno.Command(program, {
    args,
    cwd: target.cwd,
    stdin: "piped",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch {
      // It ended in the meantime.
    }
  }, target.timeoutMs);
  try {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(body)).catch(() => {});
    await writer.close().catch(() => {});
    const { code, signal, stderr } = await child.output();
    if (code === 0) return undefined;
    const why = signal === "SIGKILL" ? `timed out after ${target.timeoutMs} ms` : `exit ${code}`;
    const tail = new TextDecoder().decode(stderr).trim().slice(-300);
    return `${target.label}: ${why}${tail ? `: ${tail}` : ""}`;
  } finally {
    clearTimeout(timer);
  }
}
