// What the fault drills count, on the emulator's handset inboxes (what people got), not only on the
// pipeline's own records: a message is lost when it was accepted and neither reached its handset
// nor ended in a final state that explains why (failed, suppressed, canceled, expired); it is a
// duplicate when its text reached the handset more than once; and a text to a number the pipeline
// never accepted is a stray.
import { expect } from 'vitest';
import type { TestStack } from '../support/localStack.js';

export interface AcceptedMessage {
  messageId: string;
  to: string;
}

/** A client of the API that retries as docs/api.md invites: on 409, 503 and a dropped connection, honouring Retry-After. */
export async function submitUntilAccepted(
  stack: Pick<TestStack, 'postMessages'>,
  body: unknown,
  key: string,
  options: { giveUpAfterMs?: number } = {},
): Promise<{ batchIds: string[]; messages: AcceptedMessage[]; attempts: number; statuses: number[] }> {
  const deadline = Date.now() + (options.giveUpAfterMs ?? 120_000);
  const statuses: number[] = [];
  const batchIds: string[] = [];
  for (let attempt = 1; ; attempt++) {
    let wait = 500;
    try {
      const response = await stack.postMessages(body, { 'idempotency-key': key });
      statuses.push(response.status);
      const text = await response.text();
      const parsed = text ? (JSON.parse(text) as { batchId?: string; messages?: AcceptedMessage[] }) : {};
      // A 503 after the point of no return names the batch it may have accepted.
      if (parsed.batchId) batchIds.push(parsed.batchId);
      if (response.status === 202) return { batchIds, messages: parsed.messages!, attempts: attempt, statuses };
      expect([409, 503]).toContain(response.status);
      wait = Number(response.headers.get('retry-after') ?? '1') * 1000;
    } catch {
      statuses.push(0); // the connection dropped: the request may or may not have been taken
    }
    if (Date.now() > deadline) throw new Error(`key ${key} not accepted after ${attempt} attempts (${statuses.join(', ')})`);
    await new Promise((r) => setTimeout(r, wait));
  }
}

const EXPLAINED = new Set(['failed', 'suppressed', 'canceled', 'expired']);

/**
 * Waits until no accepted message is still on its way — with `reports`, until none is waiting for
 * its delivery report either — and returns the status of each.
 */
export async function settled(
  stack: TestStack,
  messages: AcceptedMessage[],
  timeoutMs: number,
  options: { reports?: boolean } = {},
): Promise<Map<string, string>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const statuses = new Map<string, string>();
    for (const batchId of new Set(messages.map((m) => m.messageId.replace(/-\d+$/, '')))) {
      let token: string | undefined;
      do {
        const r = await stack
          .api(`batches/${batchId}?limit=1000${token ? `&continuationToken=${encodeURIComponent(token)}` : ''}`)
          .catch(() => undefined);
        if (!r || r.status !== 200) break;
        const page = (await r.json()) as { messages: Array<{ messageId: string; status: string }>; continuationToken?: string };
        for (const m of page.messages) statuses.set(m.messageId, m.status);
        token = page.continuationToken;
      } while (token);
    }
    const pending = options.reports
      ? ['queued', 'scheduled', 'sending', 'sent', undefined]
      : ['queued', 'scheduled', 'sending', undefined];
    const open = messages.filter((m) => pending.includes(statuses.get(m.messageId)));
    if (open.length === 0) return statuses;
    if (Date.now() > deadline) {
      throw new Error(
        `${open.length} messages still on their way after ${timeoutMs} ms, e.g. ${open
          .slice(0, 3)
          .map((m) => `${m.messageId}:${statuses.get(m.messageId)}`)
          .join(' ')}`,
      );
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** The drill's verdict: lost, duplicated and stray texts, counted on the handsets. */
export function ledger(
  stack: TestStack,
  text: string,
  accepted: AcceptedMessage[],
  statuses: Map<string, string>,
  handsets: string[],
) {
  const acceptedTo = new Set(accepted.map((m) => m.to));
  const lost: string[] = [];
  const duplicates: string[] = [];
  for (const m of accepted) {
    const received = stack.emulator.inbox(m.to).filter((x) => x.message === text).length;
    if (received > 1) duplicates.push(`${m.to} x${received}`);
    if (received === 0 && !EXPLAINED.has(statuses.get(m.messageId) ?? ''))
      lost.push(`${m.to} (${statuses.get(m.messageId) ?? 'no record'})`);
  }
  const strays = handsets.filter((to) => !acceptedTo.has(to) && stack.emulator.inbox(to).some((x) => x.message === text));
  return { lost, duplicates, strays };
}
