// Grouping, one way everywhere. (shared/lib: helpers that know nothing of SMS and import nothing
// of the project.)

/** Splits `items` into groups by `key`, keeping their order within each group. */
export function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}
