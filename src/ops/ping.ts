/**
 * The dead man's switch: a URL requested at the end of each run, `url` when it completed
 * without failure and `failUrl` when it failed (healthchecks.io, Uptime Kuma push monitors).
 */
import type { PingConfig } from "../config/types.ts";
import type { Logger } from "../util/log.ts";

/** Longest a ping may take. */
const PING_TIMEOUT_MS = 5000;

/** Requests each ping's URL for its outcome, all at once; failures are logged, never thrown. */
export async function sendPings(
  pings: readonly { ping: PingConfig; ok: boolean }[],
  log: Logger,
): Promise<void> {
  await Promise.all(pings.map(async ({ ping, ok }) => {
    const url = ok ? ping.url : ping.failUrl;
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(PING_TIMEOUT_MS) });
      await response.body?.cancel();
      if (!response.ok) log.warn(`Ping ${new URL(url).origin} answered HTTP ${response.status}`);
    } catch (err) {
      log.warn(`Ping ${new URL(url).origin} failed: ${(err as Error).message}`);
    }
  }));
}
