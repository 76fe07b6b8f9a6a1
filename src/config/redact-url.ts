const REDACTED = '***';

/**
 * A URL as it may be shown (check-config, logs): the userinfo password and every query value
 * replaced by `***` — any query value may be a credential (`?token=`, `?sig=`, `?code=`...), so
 * none is guessed safe — and a fragment likewise. User name, host, port, path and query keys
 * stay, so the operator can still tell which endpoint is meant. Text that does not parse as a
 * URL is redacted whole.
 */
export function redactUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return REDACTED;
  }
  if (url.password !== '') url.password = REDACTED;
  if (url.search !== '') {
    const keys = [...url.searchParams.keys()];
    url.search = keys.map((key) => `${encodeURIComponent(key)}=${REDACTED}`).join('&');
  }
  if (url.hash !== '') url.hash = REDACTED;
  return url.toString();
}
