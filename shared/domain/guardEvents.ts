// The fraud and spend guard's events, as CloudEvents 1.0 (the envelope and the data types are in
// events.ts). Ids are deterministic where the change is: one budget threshold per period, one hold
// placed or released at one time, one batch's refusals per country; so publishing again is harmless.
import type { BudgetCrossing } from './budget.js';
import type { BudgetEventData, HoldEventData, PipelineEvent, RefusalEventData, SendingEventData } from './events.js';
import { pauseKey, type Hold, type Pause } from './sendingControls.js';

function envelope<T>(
  source: string,
  type: PipelineEvent['type'],
  subject: string,
  id: string,
  time: string,
  data: T,
): PipelineEvent<T> {
  return { specversion: '1.0', id, source, type, subject, time, datacontenttype: 'application/json', data };
}

/** sms.budget.reached for one threshold of one limit in one period: announced once per period. */
export function budgetEvent(
  source: string,
  crossing: BudgetCrossing,
  at: Date,
  currency: string,
): PipelineEvent<BudgetEventData> {
  const pool = crossing.scope === '*';
  const app = crossing.scope.startsWith('@') ? crossing.scope.slice(1) : undefined;
  const cost = crossing.metric === 'cost';
  const amount = (micros: number) => (cost ? micros / 1_000_000 : micros);
  const kind = pool ? 'pool' : app !== undefined ? 'app' : 'tag';
  const named = pool ? 'pool' : app !== undefined ? `app.${app}` : `tag.${crossing.scope}`;
  return envelope(
    source,
    'sms.budget.reached',
    pool ? 'budgets/pool' : app !== undefined ? `budgets/apps/${app}` : `budgets/tags/${crossing.scope}`,
    `budget.${named}.${crossing.periodKey}.${crossing.metric}.${crossing.threshold}`,
    at.toISOString(),
    {
      scope: kind,
      ...(kind === 'tag' ? { tag: crossing.scope } : {}),
      ...(app !== undefined ? { app } : {}),
      period: crossing.period,
      periodStart: crossing.periodStart,
      periodEnd: crossing.periodEnd,
      metric: crossing.metric,
      threshold: crossing.threshold,
      limit: amount(crossing.limit),
      spent: amount(crossing.spent),
      ...(cost ? { currency } : {}),
    },
  );
}

export function holdData(hold: Hold): HoldEventData {
  return {
    holdId: hold.id,
    country: hold.country,
    ...(hold.prefix ? { prefix: hold.prefix } : {}),
    ...(hold.tags ? { tags: hold.tags } : {}),
    rule: hold.rule,
    reason: hold.reason,
    detail: hold.detail,
    placedAt: hold.placedAt,
    ...(hold.releasedAt ? { releasedAt: hold.releasedAt } : {}),
    ...(hold.releaseNote ? { releaseNote: hold.releaseNote } : {}),
    ...(hold.heldMessages ? { heldMessages: hold.heldMessages } : {}),
  };
}

/** sms.hold.placed or sms.hold.released; a hold placed again later is a new event (its time is in the id). */
export function holdEvent(source: string, hold: Hold): PipelineEvent<HoldEventData> {
  const released = hold.state === 'released';
  const time = released ? hold.releasedAt! : hold.placedAt;
  return envelope(
    source,
    released ? 'sms.hold.released' : 'sms.hold.placed',
    `holds/${hold.id}`,
    `hold.${hold.id}.${Date.parse(hold.placedAt)}.${released ? 'released' : 'placed'}`,
    time,
    holdData(hold),
  );
}

/**
 * sms.destination.refused for one country's recipients of one request. An accepted batch's refusals
 * (partial requests) have ids from the batch; a request refused whole has a fresh id each time,
 * since each refused request is a refusal of its own.
 */
export function refusalEvent(
  source: string,
  data: RefusalEventData,
  at: Date,
  requestId: string,
): PipelineEvent<RefusalEventData> {
  return envelope(
    source,
    'sms.destination.refused',
    `destinations/${data.country}`,
    `refused.${data.batchId ?? requestId}.${data.country}`,
    at.toISOString(),
    data,
  );
}

/** sms.sending.paused / sms.sending.resumed. */
export function sendingEvent(source: string, pause: Pause, paused: boolean, at: Date): PipelineEvent<SendingEventData> {
  const scope = pause.scope;
  const time = paused ? pause.since : at.toISOString();
  return envelope(
    source,
    paused ? 'sms.sending.paused' : 'sms.sending.resumed',
    `sending/${pauseKey(scope)}`,
    `sending.${pauseKey(scope)}.${Date.parse(time)}.${paused ? 'paused' : 'resumed'}`,
    time,
    {
      scope: scope.kind,
      ...(scope.kind === 'sender' ? { sender: scope.sender } : {}),
      ...(scope.kind === 'tag' ? { tag: scope.tag } : {}),
      ...(pause.reason ? { reason: pause.reason } : {}),
      at: time,
    },
  );
}
