// The alerts and the workbook, read from the compiled template as azd would deploy it: every alert
// the runbook names exists, goes to the action group when ALERT_EMAIL is set, and every metric,
// dimension and log event a query reads is one the app emits (shared/adapters/telemetry/names.ts is
// what the code emits; test/e2e/telemetry.test.ts checks that the emitted metrics carry those names).
// A renamed metric or attribute cannot leave an alert silently watching nothing.
import { beforeAll, describe, expect, it } from 'vitest';
import { ATTRIBUTES, LOG_EVENTS, LOG_PROPERTIES, METRICS, METRIC_NAMES } from '../../shared/adapters/telemetry/names.js';
import { plain, type Value } from './armTemplate.js';
import { baseEnv, created, provision, type Evaluated } from './environments.js';

/** The alerts of docs/operations.md, by the key in their rule name. */
const ALERTS = ['dead-letters', 'failure-rate', 'acs-unauthorized', 'delivery-reports-missing', 'queue-age', 'budget-reached'];

const ATTRIBUTES_OF = new Map<string, readonly string[]>(Object.values(METRICS).map((m) => [m.name, m.attributes]));

interface QueryProblems {
  metrics: string[];
  problems: string[];
}

/**
 * What a KQL query reads, and what of it the app does not emit: metric names (`name == '…'`,
 * `name in ('…', …)`), dimensions (`customDimensions['…']`, which must be attributes of a metric the
 * same query reads, or log properties for a traces query) and log messages (`message == '…'`).
 */
export function checkQuery(query: string): QueryProblems {
  const problems: string[] = [];
  const metrics = new Set<string>();
  for (const m of query.matchAll(/\bname\s*==\s*'([^']+)'/g)) metrics.add(m[1]!);
  for (const m of query.matchAll(/\bname\s+in\s*\(([^)]*)\)/g)) for (const n of m[1]!.matchAll(/'([^']+)'/g)) metrics.add(n[1]!);
  const readsMetrics = /\bcustomMetrics\b/.test(query);
  if (readsMetrics && metrics.size === 0) problems.push('reads customMetrics without naming a metric');
  for (const name of metrics) if (!METRIC_NAMES.includes(name)) problems.push(`metric ${name} is not emitted`);
  const allowed = new Set<string>([
    ...[...metrics].flatMap((m) => ATTRIBUTES_OF.get(m) ?? []),
    ...(/\btraces\b/.test(query) ? [...Object.values(LOG_PROPERTIES), ...Object.values(ATTRIBUTES)] : []),
  ]);
  for (const m of query.matchAll(/customDimensions\s*\[\s*'([^']+)'\s*\]/g)) {
    if (!allowed.has(m[1]!))
      problems.push(`dimension ${m[1]} is not an attribute of ${[...metrics].join(', ') || 'any metric read'}`);
  }
  const events: string[] = Object.values(LOG_EVENTS);
  for (const m of query.matchAll(/\bmessage\s*==\s*'([^']+)'/g))
    if (!events.includes(m[1]!)) problems.push(`log event ${m[1]} is not emitted`);
  return { metrics: [...metrics], problems };
}

let defaults: Evaluated;
let withEmail: Evaluated;

beforeAll(() => {
  defaults = provision(baseEnv);
  withEmail = provision({ ...baseEnv, ALERT_EMAIL: 'oncall@example.com' });
});

const rules = (e: Evaluated) => created(e, 'Microsoft.Insights/scheduledQueryRules');
const ruleQuery = (r: ReturnType<typeof rules>[number]) => {
  const criteria = plain(r.body.properties as Value) as { criteria: { allOf: Array<{ query: string }> } };
  return criteria.criteria.allOf.map((c) => c.query).join('\n');
};

function workbookQueries(e: Evaluated): Array<{ name: string; query: string }> {
  const [workbook] = created(e, 'Microsoft.Insights/workbooks');
  const properties = plain(workbook!.body.properties as Value) as { serializedData: string; sourceId: string };
  const data = JSON.parse(properties.serializedData) as {
    version: string;
    items: Array<{ type: number; name: string; content: { query?: string } }>;
  };
  expect(data.version).toBe('Notebook/1.0');
  return data.items.filter((i) => i.type === 3).map((i) => ({ name: i.name, query: i.content.query! }));
}

describe('alerts (infra/modules/alerts.bicep)', () => {
  it('has every alert of the runbook, on the Application Insights component, enabled', () => {
    const component = created(defaults, 'Microsoft.Insights/components')[0]!;
    const found = rules(defaults);
    expect(found.map((r) => ALERTS.find((a) => r.name.startsWith(`sms-${a}-`))).sort()).toEqual([...ALERTS].sort());
    for (const rule of found) {
      const p = plain(rule.body.properties as Value) as {
        scopes: string[];
        enabled: boolean;
        actions: { actionGroups: string[] };
      };
      expect(p.scopes).toEqual([component.id]);
      expect(p.enabled).toBe(true);
      // Without ALERT_EMAIL there is nobody to notify: no action group, rules still visible in the portal.
      expect(p.actions.actionGroups).toEqual([]);
    }
    expect(created(defaults, 'Microsoft.Insights/actionGroups')).toHaveLength(0);
  });

  it('wires every rule to an action group that e-mails ALERT_EMAIL when azd has one', () => {
    const groups = created(withEmail, 'Microsoft.Insights/actionGroups');
    expect(groups).toHaveLength(1);
    const group = plain(groups[0]!.body.properties as Value) as {
      groupShortName: string;
      emailReceivers: Array<{ emailAddress: string }>;
    };
    expect(group.emailReceivers.map((r) => r.emailAddress)).toEqual(['oncall@example.com']);
    expect(group.groupShortName.length).toBeLessThanOrEqual(12);
    for (const rule of rules(withEmail)) {
      const p = plain(rule.body.properties as Value) as { actions: { actionGroups: string[] } };
      expect(p.actions.actionGroups).toEqual([groups[0]!.id]);
    }
  });

  it('reads only metrics, dimensions and log events the app emits', () => {
    for (const rule of rules(defaults)) expect(checkQuery(ruleQuery(rule)).problems, rule.name).toEqual([]);
  });

  it('puts the thresholds into the queries', () => {
    const query = (key: string) => ruleQuery(rules(defaults).find((r) => r.name.startsWith(`sms-${key}-`))!);
    expect(query('failure-rate')).toMatch(/settled >= 20 and failed \* 100\.0 \/ settled > 10$/);
    expect(query('queue-age')).toMatch(/oldestAgeSeconds > 600$/);
    expect(query('delivery-reports-missing')).toMatch(/^let silence = 30m;/);
    expect(query('acs-unauthorized')).toMatch(/status in \(401, 403\)/);
    expect(query('budget-reached')).toContain(`message == '${LOG_EVENTS.budgetReached}'`);
  });
});

describe('workbook (infra/modules/workbook.bicep)', () => {
  it('is linked to the component and reads only names the app emits', () => {
    const component = created(defaults, 'Microsoft.Insights/components')[0]!;
    const [workbook] = created(defaults, 'Microsoft.Insights/workbooks');
    expect((plain(workbook!.body.properties as Value) as { sourceId: string }).sourceId).toBe(component.id);
    const queries = workbookQueries(defaults);
    expect(queries.length).toBeGreaterThan(10);
    for (const { name, query } of queries) expect(checkQuery(query).problems, name).toEqual([]);
  });

  it('shows every metric the app emits somewhere', () => {
    const shown = new Set(workbookQueries(defaults).flatMap(({ query }) => checkQuery(query).metrics));
    expect(METRIC_NAMES.filter((name) => !shown.has(name))).toEqual([]);
  });

  it('has the views the issue asks for: sends, delivery rate, failures by code, latency, opt-outs, per sender', () => {
    const names = workbookQueries(defaults).map((q) => q.name);
    expect(names).toEqual(
      expect.arrayContaining(['sends', 'delivery-rate', 'failures-by-code', 'acs-latency', 'opt-outs', 'per-sender', 'trace']),
    );
  });
});

describe('the name check itself', () => {
  it('catches a misspelt metric, a dimension of another metric, and an unknown log event', () => {
    expect(checkQuery("customMetrics | where name == 'sms.messages.delivred'").problems).toEqual([
      'metric sms.messages.delivred is not emitted',
    ]);
    expect(
      checkQuery(
        "customMetrics | where name == 'sms.messages.delivered' | summarize by tostring(customDimensions['sms.failure_code'])",
      ).problems,
    ).toHaveLength(1);
    expect(checkQuery('customMetrics | summarize sum(value)').problems).toEqual(['reads customMetrics without naming a metric']);
    expect(checkQuery("traces | where message == 'sms.budget.reachd'").problems).toEqual([
      'log event sms.budget.reachd is not emitted',
    ]);
    expect(
      checkQuery(
        "customMetrics | where name in ('sms.messages.failed', 'sms.messages.delivered') | summarize by tostring(customDimensions['sms.failure_code'])",
      ).problems,
    ).toEqual([]);
  });
});
