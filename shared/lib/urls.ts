// URL helpers. (shared/lib: helpers that know nothing of SMS and import nothing of the project.)

/** Plain http only to this machine: anything else would carry phone numbers (or a key) in clear. */
export function isLoopbackUrl(url: URL): boolean {
  return ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname) || /^127\.\d+\.\d+\.\d+$/.test(url.hostname);
}
