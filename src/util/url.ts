/** Redact the password of a transport URL before it goes to results or the console. */
export function redactUrl(url: string): string {
  return url.replace(/(\/\/[^:/@,]+:)[^@/]*@/g, '$1***@');
}

/** A transport URL with its user and password left out, for a problem message about the URL itself. */
export function hideCredentials(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//…@');
}
