// Table keys may not contain / \ # ? or control characters; anything that comes from outside is
// escaped before it becomes a PartitionKey or RowKey.

export function escapeKey(value: string): string {
  // Control characters are exactly what must not reach a key, so the pattern names them.
  // eslint-disable-next-line no-control-regex
  return value.replace(/[/\\#?%\u0000-\u001f\u007f-\u009f]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** Quotes a value for an OData filter string. */
export function odataString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** Undoes escapeKey. */
export function unescapeKey(value: string): string {
  return value.replace(/%([0-9a-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/**
 * A continuation token of the pipeline's own: where the previous page ended, as base64url JSON
 * tagged with the listing it belongs to. Stable however the store pages, and checkable.
 */
export function encodeContinuation(listing: string, position: Record<string, string>): string {
  return Buffer.from(JSON.stringify({ l: listing, ...position }), 'utf8').toString('base64url');
}

/** Reads a token of encodeContinuation; undefined when it is not one of `listing` with these fields. */
export function decodeContinuation<K extends string>(
  listing: string,
  token: string,
  fields: readonly K[],
): Record<K, string> | undefined {
  if (token.length > 2048 || !/^[A-Za-z0-9_-]+$/.test(token)) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (v.l !== listing) return undefined;
  const out = {} as Record<K, string>;
  for (const f of fields) {
    if (typeof v[f] !== 'string') return undefined;
    out[f] = v[f] as string;
  }
  return out;
}
