/** A URL with its password, if any, replaced: fit for a banner, a log line or an error message. */
export function redactUrlPassword(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}
