// A dry run of POST /api/messages: what a submit with this body would do — encoding, segments,
// the text after smart encoding, the sender and opt-out verdict per recipient — without
// enqueuing, recording or reserving anything. It shares planSubmit with the real submit.
import type { PreviewResponse } from '../http/apiSchemas.js';
import type { FieldError } from '../http/problem.js';
import type { SubmitMessagesBody } from '../http/schemas.js';
import { planSubmit, type SubmitDeps } from './submitMessages.js';

export type PreviewResult = { kind: 'preview'; response: PreviewResponse } | { kind: 'invalid'; errors: FieldError[] };

export async function previewMessages(
  deps: Pick<SubmitDeps, 'optOuts' | 'clock' | 'senders' | 'maxSegments'>,
  body: SubmitMessagesBody,
): Promise<PreviewResult> {
  const planned = await planSubmit(deps, body);
  if (planned.kind === 'invalid') return planned;
  const plan = planned.plan;
  const recipients = plan.recipients.map((r) => ({
    to: r.to,
    from: r.from.number,
    optedOut: r.optedOut,
    status: r.optedOut ? ('suppressed' as const) : plan.scheduledAt ? ('scheduled' as const) : ('queued' as const),
  }));
  const sendable = recipients.filter((r) => !r.optedOut).length;
  return {
    kind: 'preview',
    response: {
      text: plan.text,
      textChanged: plan.text !== body.message,
      encoding: plan.encoding,
      segments: plan.segments,
      recipients,
      rejected: plan.rejected,
      ...(plan.scheduledAt ? { scheduledAt: plan.scheduledAt.toISOString() } : {}),
      ...(plan.expiresAt ? { expiresAt: plan.expiresAt.toISOString() } : {}),
      totals: {
        recipients: recipients.length,
        sendable,
        suppressed: recipients.length - sendable,
        rejected: plan.rejected.length,
        segments: sendable * plan.segments,
      },
    },
  };
}
