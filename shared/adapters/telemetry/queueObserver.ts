// Gauges only an observer outside the sender can give: how old the oldest waiting send job is (a
// stalled sender consumes nothing, so it cannot report its own stall) and how many dead letters
// wait for an operator. Recorded once a minute by the observeQueues timer; alerts read them.
import type { DeadLetterStore } from '../../ports/deadLetters.js';
import { ATTRIBUTES } from './names.js';
import { instruments } from './instrumented.js';

export interface QueueObservation {
  oldestAgeSeconds: number;
  /** Jobs in the transport's poison / dead-letter queue. */
  transportDeadLetters: number;
}

/** Looks at the outbound queue without changing it. */
export interface QueueProbe {
  readonly system: string;
  readonly queueName: string;
  observe(): Promise<QueueObservation>;
}

/** Observes the queue and the dead letters and records the gauges; returns what it saw. */
export async function observeQueues(
  probe: QueueProbe,
  deadLetters: DeadLetterStore,
): Promise<QueueObservation & { tableDeadLetters: number }> {
  const [observation, table] = await Promise.all([probe.observe(), deadLetters.list({ limit: 100 })]);
  const i = instruments();
  i.queueAge.record(Math.round(observation.oldestAgeSeconds), {
    [ATTRIBUTES.messagingSystem]: probe.system,
    [ATTRIBUTES.messagingDestination]: probe.queueName,
  });
  i.deadLetters.record(table.length, { [ATTRIBUTES.deadLetterStore]: 'table' });
  i.deadLetters.record(observation.transportDeadLetters, { [ATTRIBUTES.deadLetterStore]: 'transport' });
  return { ...observation, tableDeadLetters: table.length };
}
