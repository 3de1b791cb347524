/**
 * Dates as feeds and sitemaps write them: RFC 822 and its real-world variants, W3C-DTF/ISO 8601,
 * JavaScript's Date.toString(), 12-hour times, ordinal days, IANA zone names, and month names in
 * the common European languages (_date_words.ts).
 */
import { monthNumber, normaliseDate } from "./_date_words.ts";
import { zoneOffset } from "./_zones.ts";

const TIME = String.raw`(\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:[.,]\d+)?)?`;
// Words are letters of any script ("Κυρ", "Ιούλ", "März").
const RFC822 = new RegExp(
  String
    .raw`^(?:\p{L}+\.?,?\s*)?(\d{1,2})\s*[\s-]\s*(\p{L}+)\.?,?[\s-]\s*(\d{4}|\d{2})(?:,?\s+${TIME})?\s*(.*)$`,
  "iu",
);
const MONTH_FIRST = new RegExp(
  String
    .raw`^(?:\p{L}+\.?,?\s+)?(\p{L}+)\.?\s+(\d{1,2}),?\s+(\d{4})(?:,?\s+${TIME})?\s*(.*)$`,
  "iu",
);
const ASCTIME = new RegExp(
  String
    .raw`^\p{L}+\s+(\p{L}+)\s+(\d{1,2})\s+${TIME}(?:\s+([+-]\d{4}|\p{L}+))?\s+(\d{4})$`,
  "iu",
);
const SLASHED = new RegExp(
  String.raw`^(?:\p{L}+,?\s*)?(\d{4})/(\d{1,2})/(\d{1,2})(?:\s+${TIME})?\s*(.*)$`,
  "iu",
);
const W3CDTF =
  /^(\d{4})(?:-(\d{2,3})(?:-(\d{2}))?)?(?:[T\s](\d{2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?|[a-z]+(?:\/[\w+-]+)+)?)?$/i;
const ISO_COMPACT =
  /^(\d{4})(\d{2})(\d{2})(?:T(\d{2}):?(\d{2})(?::?(\d{2})(?:[.,]\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/i;
const ISO_SHORT_YEAR = /^(\d{2})-?(\d{2})-?(\d{2})$/;
const ISO_YEAR_MONTH = /^-(\d{2})-?(\d{2})$/;
const ISO_ORDINAL = /^(\d{2}|\d{4})-?(\d{3})$/;

// The form most feeds write ("Tue, 01 Jan 2024 10:00:00 GMT"): read at once, as the general
// path would read it, without the rewriting and the patterns that other forms need.
const PLAIN_RFC822 =
  /^(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), )?(\d{1,2}) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) (\d{4}) (\d{2}):(\d{2}):(\d{2}) (GMT|UTC|[+-]\d{4})$/;
const PLAIN_MONTHS = "JanFebMarAprMayJunJulAugSepOctNovDec";

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
  const plain = input ? PLAIN_RFC822.exec(input) : null;
  if (plain) {
    const [, day, month, year, hour, minute, second, zone] = plain;
    const monthNumber = PLAIN_MONTHS.indexOf(month) / 3 + 1;
    return toEpoch({
      year: Number(year),
      month: monthNumber,
      day: Number(day),
      hour,
      minute,
      second,
      zone,
    });
  }
  const trimmed = input?.trim().replace(/\s+/g, " ");
  if (!trimmed) return undefined;
  const { text, meridiem, defaultZone } = normaliseDate(trimmed);
  const parts = w3cParts(text) ?? isoVariantParts(text) ?? rfc822Parts(text);
  if (!parts) return undefined;
  if (meridiem !== undefined) {
    const hour = Number(parts.hour ?? NaN);
    if (!(hour >= 1 && hour <= 12)) return undefined;
    parts.hour = String((hour % 12) + (meridiem === "pm" ? 12 : 0));
  }
  if (defaultZone !== undefined && !parts.zone) parts.zone = defaultZone;
  return toEpoch(parts);
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

function namedMonth(year: string, word: string, day: string, rest: string[]): Parts | undefined {
  const month = monthNumber(word);
  if (month === undefined) return undefined;
  const [hour, minute, second, zone] = rest;
  return { year: fullYear(year), month, day: Number(day), hour, minute, second, zone };
}

function fullYear(year: string): number {
  const n = Number(year);
  if (year.length !== 2) return n;
  return n < 70 ? 2000 + n : 1900 + n;
}

function toEpoch(p: Parts): number | undefined {
  const hour = Number(p.hour ?? 0);
  const minute = Number(p.minute ?? 0);
  const second = Number(p.second ?? 0);
  if (p.month < 1 || p.month > 12 || p.day < 1 || p.day > daysIn(p.year, p.month)) return undefined;
  if (hour > 23 || minute > 59 || second > 60) return undefined;
  const local = utc(p.year, p.month - 1, p.day) +
    ((hour * 60 + minute) * 60 + Math.min(second, 59)) * 1000;
  const offset = zoneOffset(p.zone, local);
  if (offset === null) return undefined;
  return local - offset * 60_000;
}

/** Milliseconds of midnight UTC of a date; Date.UTC alone would read years 0–99 as 19xx. */
function utc(year: number, monthIndex: number, day: number): number {
  if (year >= 100) return Date.UTC(year, monthIndex, day);
  const date = new Date(0);
  date.setUTCFullYear(year, monthIndex, day);
  return date.getTime();
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysIn(year: number, month: number): number {
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1];
}
