/**
 * The words of dates as feeds write them in many languages: month names (English and, from the
 * platform's locale data, the common European languages), AM/PM, ordinal days, and the Korean
 * and Hungarian forms of feedparser's date vectors, rewritten into a form _dates.ts reads.
 */

const ENGLISH_MONTHS = [
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
];

/** Languages whose month names are read, besides English. */
const LOCALES = [
  "de",
  "fr",
  "es",
  "it",
  "pt",
  "nl",
  "sv",
  "da",
  "nb",
  "fi",
  "pl",
  "cs",
  "sk",
  "hu",
  "ro",
  "el",
  "ca",
  "hr",
  "sl",
  "tr",
  "ru",
  "uk",
];

/** A word as looked up: lower case, without diacritics or a final dot. */
function key(word: string): string {
  return word.normalize("NFD").replace(/\p{M}/gu, "").toLowerCase().replace(/\.$/, "");
}

function buildMonths(): Map<string, number> {
  const months = new Map<string, number>();
  const ambiguous = new Set<string>();
  const add = (word: string, month: number): void => {
    const k = key(word);
    if (/\d/.test(k) || k.length < 3 || ambiguous.has(k)) return;
    const known = months.get(k);
    if (known === undefined) months.set(k, month);
    else if (known !== month) {
      months.delete(k);
      ambiguous.add(k);
    }
  };
  for (const locale of LOCALES) {
    for (const style of ["long", "short"] as const) {
      // Format-context names ("lipca", "Ιουλίου") differ from standalone ones in some languages.
      const inDate = new Intl.DateTimeFormat(locale, {
        month: style,
        day: "numeric",
        timeZone: "UTC",
      });
      const alone = new Intl.DateTimeFormat(locale, { month: style, timeZone: "UTC" });
      for (let m = 0; m < 12; m++) {
        const date = new Date(Date.UTC(2004, m, 15));
        add(inDate.formatToParts(date).find((p) => p.type === "month")!.value, m + 1);
        add(alone.format(date), m + 1);
      }
    }
  }
  // English wins over any clash: "mar", "may", "dec" mean what they mean in RFC 822.
  ENGLISH_MONTHS.forEach((name, i) => {
    months.set(name, i + 1);
    months.set(name.slice(0, 3), i + 1);
  });
  months.set("sept", 9);
  return months;
}

/**
 * Built on first use: formatting every month of every locale costs about as much as the rest of
 * a run's start-up, and most runs read no date that needs it.
 */
let months: Map<string, number> | undefined;

/** The month number (1–12) a word names, in any of the read languages; undefined otherwise. */
export function monthNumber(word: string): number | undefined {
  months ??= buildMonths();
  return months.get(word.toLowerCase()) ?? months.get(key(word));
}

/** A date text rewritten into the forms _dates.ts reads, with what the rewriting took out. */
export interface NormalisedDate {
  text: string;
  /** "am" or "pm" when the time was written in 12-hour form. */
  meridiem?: "am" | "pm";
  /** The zone to assume when the text names none (Korean dates are in KST). */
  defaultZone?: string;
}

const MERIDIEM = /(\d{1,2}(?::\d{2}){1,2}(?:[.,]\d+)?)\s*([ap])\.?\s?m\.?(?=$|[\s,(+-])/i;
const KOREAN_MERIDIEM = /(오전|오후)\s*(\d{1,2}:\d{2}(?::\d{2})?)/;
const KOREAN_DATE = /(\d{4})년\s*(\d{1,2})월\s*(\d{1,2})일/;
const ISO_MONTH_WORD = /^(\d{4})-(\p{L}+)\.?-(\d{1,2})(?=T|\s|$)(T\d(?=:))?/u;
const FILLERS = /\s(?:de|del|à|a las|um|om|at|alle|kl\.|klo)\s/giu;

// What each rewriting needs to find before it is tried: most dates need none of them.
const MAY_NEED =
  /[\uac00-\ud7af]|\d\s?[ap]\.?\s?m|\d(?:st|nd|rd|th|\.)|^\d{4}-\p{L}|\s(?:de|del|à|a|um|om|at|alle|kl|klo)[\s.]/iu;

/** Rewrites localised and 12-hour forms; a text in none of them comes back unchanged. */
export function normaliseDate(input: string): NormalisedDate {
  const out: NormalisedDate = { text: input };
  if (!MAY_NEED.test(input)) return out;
  let text = input;
  const korean = KOREAN_MERIDIEM.exec(text);
  if (korean) {
    out.meridiem = korean[1] === "오후" ? "pm" : "am";
    text = text.replace(KOREAN_MERIDIEM, "$2");
  }
  if (korean || KOREAN_DATE.test(text)) {
    text = text.replace(KOREAN_DATE, (_, y, m, d) => `${y}-${pad(m)}-${pad(d)}`);
    out.defaultZone = "+09:00";
  }
  const meridiem = MERIDIEM.exec(text);
  if (meridiem) {
    out.meridiem = meridiem[2].toLowerCase() === "p" ? "pm" : "am";
    text = text.replace(MERIDIEM, "$1");
  }
  text = text.replace(ISO_MONTH_WORD, (match, y, word, d, hour) => {
    const month = monthNumber(word);
    if (month === undefined) return match;
    return `${y}-${pad(String(month))}-${pad(d)}${hour ? `T0${hour.slice(1)}` : ""}`;
  });
  // Ordinal days ("16th"), a German day's dot ("3. April"), and words between the parts.
  text = text.replace(/\b(\d{1,2})(?:st|nd|rd|th)\b/gi, "$1")
    .replace(/\b(\d{1,2})\.(?=\s+\p{L})/gu, "$1")
    .replace(FILLERS, " ");
  out.text = text.trim().replace(/\s+/g, " ");
  return out;
}

function pad(n: string): string {
  return n.padStart(2, "0");
}
