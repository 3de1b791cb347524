/** URLs in messages and logs. */

/**
 * `url` with its credentials hidden, for messages and logs: the password becomes "***", and so
 * does a user name given without a password (an API token, as in https://TOKEN@host/).
 */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (!parsed.username && !parsed.password) return url;
    if (parsed.password) parsed.password = "***";
    else parsed.username = "***";
    return parsed.href;
  } catch {
    return url.replace(/\/\/([^:/@]*):[^@/]*@/, "//$1:***@").replace(/\/\/[^:/@]+@/, "//***@");
  }
}
