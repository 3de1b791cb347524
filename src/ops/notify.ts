/**
 * Sending the alert outbox: each target gets, per job and kind, one notification with the
 * alerts it lacks. A cooldown per job and kind holds new alerts back (they wait in the outbox
 * and go out together once it is over); an alert a target did not take is retried by the next
 * round. Sending never fails the caller and takes at most about the longest target timeout.
 */
import type { AlertKind, AlertSettlement, PendingAlert, Store } from "../db/store.ts";
import type { Config, NotifyConfig, NotifyTarget } from "../config/types.ts";
import type { Logger } from "../util/log.ts";
import { hostName } from "../util/process.ts";
import { DAY_MS } from "../util/time.ts";
import { notificationBody } from "./_alert_text.ts";
import { sendTo } from "./_send.ts";

/** How often `run --watch` sends the outbox. */
const WATCH_SEND_MS = 60_000;

/** An alert no target took for this long is given up (and the loss logged). */
const GIVE_UP_MS = 7 * DAY_MS;

/** What a round of sending did. */
export interface DeliveryReport {
  /** Notifications delivered and failed. */
  sent: number;
  failed: number;
  /** Alerts a cooldown still holds back. */
  held: number;
}

/** Options of deliverAlerts(). */
export interface DeliverOptions {
  log: Logger;
  now?: () => number;
}

/** Sends what the outbox holds to the configured targets; never throws. */
export async function deliverAlerts(
  db: Store,
  config: Config,
  options: DeliverOptions,
): Promise<DeliveryReport> {
  try {
    return await deliver(db, config, options);
  } catch (err) {
    options.log.error(`Cannot send alerts: ${(err as Error).message}`);
    return { sent: 0, failed: 0, held: 0 };
  }
}

/** `run --watch`: sends the outbox every minute until stopped. */
export function watchAlerts(db: Store, config: Config, options: DeliverOptions): { stop(): void } {
  let sending: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    sending = sending.then(() => deliverAlerts(db, config, options));
  }, WATCH_SEND_MS);
  return { stop: () => clearInterval(timer) };
}

async function deliver(
  db: Store,
  config: Config,
  options: DeliverOptions,
): Promise<DeliveryReport> {
  const now = (options.now ?? Date.now)();
  const pending = await db.pendingAlerts();
  if (pending.length === 0) return { sent: 0, failed: 0, held: 0 };
  const cooldowns = new Map(
    (await db.alertCooldowns()).map((c) => [`${c.jobId}\0${c.kind}`, c.releasedAt]),
  );
  const report: DeliveryReport = { sent: 0, failed: 0, held: 0 };
  const released: { jobId: string; kind: AlertKind }[] = [];
  const rounds: Promise<AlertSettlement[]>[] = [];
  for (const alerts of Map.groupBy(pending, (a) => `${a.jobId}\0${a.kind}`).values()) {
    const { jobId, kind } = alerts[0];
    const notify = notifyOf(config, jobId);
    const targets = notify.targets.filter((t) => t.events.includes(kind));
    const last = cooldowns.get(`${jobId}\0${kind}`);
    const cooling = last !== undefined && now - last < notify.cooldownMs;
    const held = alerts.filter((a) => a.attempts === 0);
    const release = held.length > 0 && (!cooling || targets.length === 0);
    if (release && targets.length) released.push({ jobId, kind });
    if (!release) report.held += held.length;
    const due = release ? alerts : alerts.filter((a) => a.attempts > 0);
    if (due.length) rounds.push(sendGroup(due, targets, { now, report, log: options.log }));
  }
  const settled = (await Promise.all(rounds)).flat();
  await db.settleAlerts({ released, alerts: settled, now: () => now });
  return report;
}

/** The notify settings that cover `jobId` ("" and jobs no longer configured: the top level). */
function notifyOf(config: Config, jobId: string): NotifyConfig {
  return config.jobs.find((j) => j.id === jobId)?.notify ?? config.notify;
}

/** Sends `alerts` (one job and kind) to each of `targets` that lacks some of them. */
async function sendGroup(
  alerts: PendingAlert[],
  targets: NotifyTarget[],
  round: { now: number; report: DeliveryReport; log: Logger },
): Promise<AlertSettlement[]> {
  const host = hostName();
  const outcomes = await Promise.all(targets.map(async (target) => {
    const missing = alerts.filter((a) => !a.delivered.includes(target.id));
    if (missing.length === 0) return { target, error: undefined, missing };
    const error = await sendTo(target, notificationBody(missing, host));
    if (error) {
      round.report.failed++;
      round.log.warn(`Alert not delivered, kept for the next run: ${error}`);
    } else round.report.sent++;
    return { target, error, missing };
  }));
  return alerts.map((alert) => {
    const delivered = new Set(alert.delivered);
    const errors: string[] = [];
    for (const o of outcomes) {
      if (!o.missing.includes(alert)) continue;
      if (o.error) errors.push(o.error);
      else delivered.add(o.target.id);
    }
    const all = targets.every((t) => delivered.has(t.id));
    const givenUp = !all && round.now - alert.createdAt > GIVE_UP_MS;
    if (givenUp) round.log.error(`Alert given up after 7 days undelivered: ${errors.join("; ")}`);
    return {
      id: alert.id,
      delivered: [...delivered],
      done: all || givenUp,
      error: errors.length ? errors.join("; ") : undefined,
    };
  });
}
