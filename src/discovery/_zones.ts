/** Time zones as dates write them: offsets, abbreviations and IANA names (America/Los_Angeles). */

/** Named zones in minutes east of UTC; US names without S/D mean standard time. */
const ZONES: Record<string, number> = {
  ut: 0,
  utc: 0,
  gmt: 0,
  z: 0,
  "etc/gmt": 0,
  "etc/utc": 0,
  wet: 0,
  est: -300,
  edt: -240,
  cst: -360,
  cdt: -300,
  mst: -420,
  mdt: -360,
  pst: -480,
  pdt: -420,
  at: -240,
  ast: -240,
  adt: -180,
  et: -300,
  ct: -360,
  mt: -420,
  pt: -480,
  akst: -540,
  akdt: -480,
  hst: -600,
  nzst: 720,
  nzdt: 780,
  jst: 540,
  kst: 540,
  met: 60,
  mest: 120,
  cet: 60,
  cest: 120,
  bst: 60,
  west: 60,
  eet: 120,
  eest: 180,
  msk: 180,
};

/**
 * Minutes east of UTC for a zone written as +hhmm, -hh:mm, GMT+hh:mm, an abbreviation or an IANA
 * name, at the wall-clock time `localMs` (read as if it were UTC); null if the zone is unknown.
 * A comment in parentheses after the zone ("GMT-0700 (Pacific Daylight Time)") is ignored.
 */
export function zoneOffset(zone: string | undefined, localMs: number): number | null {
  let text = (zone ?? "").trim();
  if (text === "") return 0;
  if (text.endsWith(")")) {
    text = text.replace(/^\((.*)\)$/, "$1").replace(/(\S)\s*\([^()]*\)$/, "$1");
  }
  const named = ZONES[text.toLowerCase()];
  if (named !== undefined) return named;
  if (/^[A-Za-z]+(?:\/[A-Za-z0-9_+-]+)+$/.test(text)) return ianaOffset(text, localMs);
  const m = /^(?:(?:gmt|utc|ut)\s*)?([+-])(\d{1,2}):?(\d{2})?$/i.exec(text);
  if (!m) return null;
  const hours = Number(m[2]);
  const minutes = Number(m[3] ?? 0);
  if (hours > 23 || minutes > 59) return null;
  return (m[1] === "-" ? -1 : 1) * (hours * 60 + minutes);
}

const FORMATS = new Map<string, Intl.DateTimeFormat | null>();

/** The offset of IANA zone `name` at wall-clock time `localMs`; null when the zone is unknown. */
function ianaOffset(name: string, localMs: number): number | null {
  let format = FORMATS.get(name);
  if (format === undefined) {
    try {
      format = new Intl.DateTimeFormat("en-US", { timeZone: name, timeZoneName: "longOffset" });
    } catch {
      format = null;
    }
    FORMATS.set(name, format);
  }
  if (format === null) return null;
  const at = (ms: number): number => {
    const label = format.formatToParts(ms).find((p) => p.type === "timeZoneName")?.value ?? "";
    const m = /([+-])(\d{2}):?(\d{2})?/.exec(label);
    return m ? (m[1] === "-" ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3] ?? 0)) : 0;
  };
  // The offset at the wall-clock time read as UTC is off by the offset itself near a DST change;
  // the offset at the instant it gives is the one in force then.
  const first = at(localMs);
  return at(localMs - first * 60_000);
}
