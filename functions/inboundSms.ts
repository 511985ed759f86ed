// inboundSms — Event Grid: Microsoft.Communication.SMSReceived from ACS (Event Grid or CloudEvents schema).
// Each text is an `sms.inbound` span; a reply is linked to the trace of the message it answers
// (a new operation that person began, so a link rather than a child; one point read of that record).
import type { EventGridEvent, EventGridFunctionOptions, InvocationContext } from '@azure/functions';
import { deps, services } from '../shared/composition.js';
import { ATTRIBUTES, SPANS } from '../shared/adapters/functions/telemetry.js';
import { linkTo, SpanKind, traced } from '../shared/adapters/functions/tracing.js';
import { receiveInboundSms } from '../shared/pipeline/inboundSms.js';

export const inboundSms: EventGridFunctionOptions = {
  handler: (event: EventGridEvent, context: InvocationContext): Promise<void> =>
    traced(context, { name: SPANS.inbound, kind: SpanKind.CONSUMER }, async ({ span, log, set, elapsedMs }) => {
      const outcomes = await receiveInboundSms(deps().inbound(log), event);
      const answered = outcomes.flatMap((o) => (o.kind === 'processed' && o.inReplyTo ? [o.inReplyTo] : []));
      set({
        [ATTRIBUTES.outcome]: outcomes.map((o) => o.kind).join(','),
        ...(answered.length > 0 ? { [ATTRIBUTES.inReplyTo]: answered.join(',') } : {}),
      });
      // Telemetry only: a record that cannot be read now just leaves the reply unlinked.
      for (const messageId of answered)
        linkTo(
          span,
          (
            await services()
              .messages.get(messageId)
              .catch(() => undefined)
          )?.traceparent,
        );
      log.info(`inbound sms ${outcomes.map((o) => o.kind).join(', ')}`, { durationMs: elapsedMs() });
    }),
};
