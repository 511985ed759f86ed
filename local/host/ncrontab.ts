// NCRONTAB, the six-field cron format of Functions timer triggers: second minute hour day month
// day-of-week, with *, */n, a-b, a-b/n and lists.

export type Schedule = [Set<number>, Set<number>, Set<number>, Set<number>, Set<number>, Set<number>];

const RANGES: Array<[number, number]> = [
  [0, 59],
  [0, 59],
  [0, 23],
  [1, 31],
  [1, 12],
  [0, 6],
];

export function parseNcrontab(expression: string): Schedule {
  const fields = expression.trim().split(/\s+/);
  if (fields.length !== 6) throw new Error(`"${expression}" is not a six-field NCRONTAB expression`);
  return fields.map((field, i) => {
    const [min, max] = RANGES[i]!;
    const values = new Set<number>();
    for (const part of field.split(',')) {
      const m = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(part);
      if (!m) throw new Error(`"${part}" in "${expression}" is not understood`);
      const from = m[1] === '*' ? min : Number(m[2]);
      const to = m[1] === '*' ? max : m[3] !== undefined ? Number(m[3]) : m[4] ? max : from;
      const step = m[4] ? Number(m[4]) : 1;
      if (from < min || to > max || step < 1) throw new Error(`"${part}" in "${expression}" is out of range`);
      for (let v = from; v <= to; v += step) values.add(i === 5 && v === 7 ? 0 : v);
    }
    return values;
  }) as Schedule;
}

/** The first time after `after` (to the second, UTC) that the schedule fires. */
export function nextOccurrence(schedule: Schedule, after: Date): Date {
  const t = new Date(Math.floor(after.getTime() / 1000) * 1000 + 1000);
  for (let i = 0; i < 366 * 24 * 3600; i++) {
    if (
      schedule[4].has(t.getUTCMonth() + 1) &&
      schedule[3].has(t.getUTCDate()) &&
      schedule[5].has(t.getUTCDay()) &&
      schedule[2].has(t.getUTCHours()) &&
      schedule[1].has(t.getUTCMinutes()) &&
      schedule[0].has(t.getUTCSeconds())
    ) {
      return t;
    }
    // Skip whole minutes when the second cannot match this minute.
    if (!schedule[1].has(t.getUTCMinutes()) || !schedule[2].has(t.getUTCHours())) {
      t.setUTCSeconds(0);
      t.setUTCMinutes(t.getUTCMinutes() + 1);
    } else {
      t.setUTCSeconds(t.getUTCSeconds() + 1);
    }
  }
  throw new Error('the schedule never fires');
}
