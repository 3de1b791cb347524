/** Dates as feeds and sitemaps write them: RFC 822 and its real-world variants, W3C-DTF/ISO 8601. */

const MONTHS: Record<string, number> = {
  jan: 1,
  feb: 2,
  mar: 3,
  apr: 4,
  may: 5,
  jun: 6,
  jul: 7,
  aug: 8,
  sep: 9,
  oct: 10,
  nov: 11,
  dec: 12,
};

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

const TIME = String.raw`(\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:[.,]\d+)?)?`;
const RFC822 = new RegExp(
  String
    .raw`^(?:[a-z]+\.?,?\s*)?(\d{1,2})\s*[\s-]\s*([a-z]+)\.?,?[\s-]\s*(\d{4}|\d{2})(?:\s+${TIME})?\s*(.*)$`,
  "i",
);
const MONTH_FIRST = new RegExp(
  String.raw`^(?:[a-z]+,?\s+)?([a-z]+)\.?\s+(\d{1,2}),?\s+(\d{4})(?:\s+${TIME})?\s*(.*)$`,
  "i",
);
const ASCTIME = new RegExp(
  String.raw`^[a-z]+\s+([a-z]+)\s+(\d{1,2})\s+${TIME}(?:\s+([+-]\d{4}|[a-z]+))?\s+(\d{4})$`,
  "i",
);
const SLASHED = new RegExp(
  String.raw`^(?:[a-z]+,?\s*)?(\d{4})/(\d{1,2})/(\d{1,2})(?:\s+${TIME})?\s*(.*)$`,
  "i",
);
const W3CDTF =
  /^(\d{4})(?:-(\d{2,3})(?:-(\d{2}))?)?(?:[T\s](\d{2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;
const ISO_COMPACT =
  /^(\d{4})(\d{2})(\d{2})(?:T(\d{2}):?(\d{2})(?::?(\d{2})(?:[.,]\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/i;
const ISO_SHORT_YEAR = /^(\d{2})-?(\d{2})-?(\d{2})$/;
const ISO_YEAR_MONTH = /^-(\d{2})-?(\d{2})$/;
const ISO_ORDINAL = /^(\d{2}|\d{4})-?(\d{3})$/;

interface Parts {
  year: number;
  month: number;
  day: number;
  hour?: string;
  minute?: string;
  second?: string;
  zone?: string;
}

/** Parse a feed or sitemap date to epoch milliseconds; undefined when it is not a valid date. */
export function parseDate(input: string | undefined | null): number | undefined {
  const text = input?.trim().replace(/\s+/g, " ");
  if (!text) return undefined;
  const parts = w3cParts(text) ?? isoVariantParts(text) ?? rfc822Parts(text);
  return parts ? toEpoch(parts) : undefined;
}

/** Parse a date and render it as an ISO 8601 UTC string; undefined when it is not valid. */
export function isoDate(input: string | undefined | null): string | undefined {
  const ms = parseDate(input);
  return ms === undefined ? undefined : new Date(ms).toISOString();
}

function w3cParts(text: string): Parts | undefined {
  const m = W3CDTF.exec(text) ?? ISO_COMPACT.exec(text);
  if (!m) return undefined;
  return {
    year: Number(m[1]),
    month: m[2] ? Number(m[2]) : 1,
    day: m[3] ? Number(m[3]) : 1,
    hour: m[4],
    minute: m[5],
    second: m[6],
    zone: m[7],
  };
}

function isoVariantParts(text: string): Parts | undefined {
  let m = ISO_SHORT_YEAR.exec(text);
  if (m) return { year: fullYear(m[1]), month: Number(m[2]), day: Number(m[3]) };
  m = ISO_YEAR_MONTH.exec(text);
  if (m) return { year: fullYear(m[1]), month: Number(m[2]), day: 1 };
  m = ISO_ORDINAL.exec(text);
  if (!m) return undefined;
  const year = fullYear(m[1]);
  const dayOfYear = Number(m[2]);
  if (dayOfYear < 1) return undefined;
  const date = new Date(0);
  date.setUTCFullYear(year, 0, dayOfYear);
  if (date.getUTCFullYear() !== year) return undefined;
  return { year, month: date.getUTCMonth() + 1, day: date.getUTCDate() };
}

function rfc822Parts(text: string): Parts | undefined {
  let m = RFC822.exec(text);
  if (m) return namedMonth(m[3], m[2], m[1], m.slice(4, 8));
  m = MONTH_FIRST.exec(text);
  if (m) return namedMonth(m[3], m[1], m[2], m.slice(4, 8));
  m = ASCTIME.exec(text);
  if (m) return namedMonth(m[7], m[1], m[2], [m[3], m[4], m[5], m[6]]);
  m = SLASHED.exec(text);
  if (!m) return undefined;
  return {
    year: Number(m[1]),
    month: Number(m[2]),
    day: Number(m[3]),
    hour: m[4],
    minute: m[5],
    second: m[6],
    zone: m[7],
  };
}

function namedMonth(year: string, month: string, day: string, rest: string[]): Parts | undefined {
  const monthNumber = MONTHS[month.slice(0, 3).toLowerCase()];
  if (!monthNumber || (month.length > 3 && !isMonthName(month))) return undefined;
  const [hour, minute, second, zone] = rest;
  return { year: fullYear(year), month: monthNumber, day: Number(day), hour, minute, second, zone };
}

function isMonthName(word: string): boolean {
  const names = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
    "sept",
  ];
  return names.includes(word.toLowerCase());
}

function fullYear(year: string): number {
  const n = Number(year);
  if (year.length !== 2) return n;
  return n < 70 ? 2000 + n : 1900 + n;
}

/** Minutes east of UTC for a zone written as +hhmm, -hh:mm, GMT+hh:mm or a name; null if unknown. */
function zoneOffset(zone: string | undefined): number | null {
  const text = (zone ?? "").trim().replace(/^\((.*)\)$/, "$1");
  if (text === "") return 0;
  const named = ZONES[text.toLowerCase()];
  if (named !== undefined) return named;
  const m = /^(?:(?:gmt|utc|ut)\s*)?([+-])(\d{1,2}):?(\d{2})?$/i.exec(text);
  if (!m) return null;
  const hours = Number(m[2]);
  const minutes = Number(m[3] ?? 0);
  if (hours > 23 || minutes > 59) return null;
  return (m[1] === "-" ? -1 : 1) * (hours * 60 + minutes);
}

function toEpoch(p: Parts): number | undefined {
  const hour = Number(p.hour ?? 0);
  const minute = Number(p.minute ?? 0);
  const second = Number(p.second ?? 0);
  if (p.month < 1 || p.month > 12 || p.day < 1 || p.day > daysIn(p.year, p.month)) return undefined;
  if (hour > 23 || minute > 59 || second > 60) return undefined;
  const offset = zoneOffset(p.zone);
  if (offset === null) return undefined;
  const date = new Date(0);
  date.setUTCFullYear(p.year, p.month - 1, p.day);
  date.setUTCHours(hour, minute, Math.min(second, 59), 0);
  return date.getTime() - offset * 60_000;
}

function daysIn(year: number, month: number): number {
  const date = new Date(0);
  date.setUTCFullYear(year, month, 0);
  return date.getUTCDate();
}
