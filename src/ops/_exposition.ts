/** The Prometheus text exposition format (version 0.0.4), written by hand: it is small. */

/** One sample: labels and a value, with a suffix for summaries' _sum and _count. */
export interface Sample {
  labels: Record<string, string>;
  value: number;
  suffix?: "_sum" | "_count";
}

/** A metric family. */
export interface Family {
  name: string;
  help: string;
  type: "gauge" | "counter" | "summary";
  samples: Sample[];
}

/** The Content-Type of the text format. */
export const EXPOSITION_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** `families` as exposition text; families without samples are left out. */
export function renderExposition(families: readonly Family[]): string {
  const out: string[] = [];
  for (const family of families) {
    if (family.samples.length === 0) continue;
    out.push(`# HELP ${family.name} ${family.help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}`);
    out.push(`# TYPE ${family.name} ${family.type}`);
    for (const s of family.samples) {
      out.push(`${family.name}${s.suffix ?? ""}${labels(s.labels)} ${number(s.value)}`);
    }
  }
  return out.join("\n") + "\n";
}

function labels(values: Record<string, string>): string {
  const parts = Object.entries(values).map(([k, v]) =>
    `${k}="${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`
  );
  return parts.length ? `{${parts.join(",")}}` : "";
}

function number(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}
