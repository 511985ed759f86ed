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
