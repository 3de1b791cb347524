/** Turning a fetched document's bytes into text: byte-order marks, declared and HTTP charsets. */

/** Decoded text, the encoding used, and any problem met on the way. */
export interface DecodedText {
  text: string;
  encoding: string;
  warnings: string[];
}

/** Options of `decodeDocument()`. */
export interface DecodeOptions {
  /** The HTTP Content-Type header; its `charset` wins over the XML declaration. Default none. */
  contentType?: string;
}

interface Sniffed {
  encoding: string;
  skip: number;
}

const SIGNATURES: [number[], Sniffed][] = [
  [[0x00, 0x00, 0xfe, 0xff], { encoding: "utf-32be", skip: 4 }],
  [[0xff, 0xfe, 0x00, 0x00], { encoding: "utf-32le", skip: 4 }],
  [[0x00, 0x00, 0x00, 0x3c], { encoding: "utf-32be", skip: 0 }],
  [[0x3c, 0x00, 0x00, 0x00], { encoding: "utf-32le", skip: 0 }],
  [[0xef, 0xbb, 0xbf], { encoding: "utf-8", skip: 3 }],
  [[0xfe, 0xff], { encoding: "utf-16be", skip: 2 }],
  [[0xff, 0xfe], { encoding: "utf-16le", skip: 2 }],
  [[0x00, 0x3c, 0x00, 0x3f], { encoding: "utf-16be", skip: 0 }],
  [[0x3c, 0x00, 0x3f, 0x00], { encoding: "utf-16le", skip: 0 }],
];

/**
 * Decode a document: a byte-order mark (or the UTF-16/32 shape of "<?") decides first, then the
 * Content-Type charset, then the XML declaration, then UTF-8. Bytes that are not valid in the
 * chosen encoding are read as windows-1252, with a warning when that encoding was declared.
 */
export function decodeDocument(bytes: Uint8Array, options: DecodeOptions = {}): DecodedText {
  const sniffed = sniff(bytes);
  if (sniffed) {
    const body = bytes.subarray(sniffed.skip);
    const text = sniffed.encoding.startsWith("utf-32")
      ? decodeUtf32(body, sniffed.encoding === "utf-32le")
      : new TextDecoder(sniffed.encoding).decode(body);
    return { text, encoding: sniffed.encoding, warnings: [] };
  }
  const warnings: string[] = [];
  const declared = charsetOf(options.contentType) ?? declaredEncoding(bytes);
  let encoding = declared === undefined ? "utf-8" : normaliseLabel(declared);
  if (!isSupported(encoding)) {
    warnings.push(`unknown encoding "${declared}", read as UTF-8`);
    encoding = "utf-8";
  }
  try {
    // A fatal decoder is slow on large documents; only a text with U+FFFD needs its verdict.
    const text = new TextDecoder(encoding).decode(bytes);
    if (!text.includes("\ufffd")) return { text, encoding, warnings };
    return { text: new TextDecoder(encoding, { fatal: true }).decode(bytes), encoding, warnings };
  } catch {
    if (declared !== undefined) {
      warnings.push(`document is not valid ${encoding}, read as windows-1252`);
    }
    return {
      text: new TextDecoder("windows-1252").decode(bytes),
      encoding: "windows-1252",
      warnings,
    };
  }
}

function sniff(bytes: Uint8Array): Sniffed | undefined {
  for (const [signature, result] of SIGNATURES) {
    if (signature.every((b, i) => bytes[i] === b)) return result;
  }
  return undefined;
}

function decodeUtf32(bytes: Uint8Array, littleEndian: boolean): string {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const parts: string[] = [];
  for (let i = 0; i + 4 <= bytes.byteLength; i += 4) {
    const code = view.getUint32(i, littleEndian);
    parts.push(code <= 0x10ffff ? String.fromCodePoint(code) : "\ufffd");
  }
  return parts.join("");
}

/** The charset parameter of a Content-Type header. */
function charsetOf(contentType: string | undefined): string | undefined {
  const match = contentType?.match(/;\s*charset\s*=\s*"?([^";\s]+)"?/i);
  return match?.[1];
}

function declaredEncoding(bytes: Uint8Array): string | undefined {
  // The declaration is ASCII by definition, so a single-byte reading of its first bytes is exact.
  const head = new TextDecoder("latin1").decode(bytes.subarray(0, 256));
  const declaration = head.match(/^\s*<\?xml\s[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]+)["']/);
  return declaration?.[1];
}

function normaliseLabel(label: string): string {
  const lower = label.trim().toLowerCase();
  // Declared UTF-16/32 without a byte-order mark or their byte shape is a wrong declaration.
  if (/^(utf|ucs)-?(16|32|2|4)/.test(lower)) return "utf-8";
  return lower;
}

function isSupported(label: string): boolean {
  try {
    new TextDecoder(label);
    return true;
  } catch {
    return false;
  }
}
