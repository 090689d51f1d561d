/** Redact the password of a transport URL before it goes to results or the console. */
export function redactUrl(url: string): string {
  return url.replace(/(\/\/[^:/@,]+:)[^@/]*@/g, '$1***@');
}
