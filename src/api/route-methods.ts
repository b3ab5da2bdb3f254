// Which methods each route path answers, so that a known path asked with another method answers 405 with Allow
// (RFC 9110 15.5.6) rather than the 404 of a path that does not exist. Filled from onRoute as routes are declared.

/** '/v1/jobs/:id' -> /^\/v1\/jobs\/[^/]+$/; a '*' wildcard (the docs UI's static files) matches the rest. */
function patternOf(url: string): RegExp {
  const source = url
    .split(/(:[A-Za-z0-9_]+|\*)/)
    .map((part) => (part === '*' ? '.*' : part.startsWith(':') ? '[^/]+' : part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`);
}

export class RouteMethods {
  private readonly byUrl = new Map<string, { pattern: RegExp; methods: Set<string> }>();

  add(url: string, methods: string | string[]): void {
    const entry = this.byUrl.get(url) ?? { pattern: patternOf(url), methods: new Set<string>() };
    for (const method of [methods].flat()) entry.methods.add(method);
    this.byUrl.set(url, entry);
  }

  /** The methods some route answers on this path (without its query), sorted; empty for an unknown path. */
  allowed(path: string): string[] {
    const methods = new Set<string>();
    for (const { pattern, methods: own } of this.byUrl.values()) if (pattern.test(path)) for (const m of own) methods.add(m);
    return [...methods].sort();
  }
}
