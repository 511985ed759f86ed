// deliveryReports — Event Grid: Microsoft.Communication.SMSDeliveryReportReceived from ACS.
//
// The report joins its message's trace. ACS's system events carry no trace context — the Event Grid
// schema has no field for one, and Event Grid passes a `traceparent` only as a CloudEvents extension
// that the publisher set (Azure/azure-sdk-for-net#13272; Microsoft's SMSDeliveryReportReceived
// examples in both schemas have none: test/fixtures/published/events/) — so the link is the message
// id: the record found for the report keeps the trace its submit began, and the `sms.delivery_report`
// span is placed there once the report is applied, linked to this invocation's own span.
import type { EventGridEvent, EventGridFunctionOptions, InvocationContext } from '@azure/functions';
import { deps } from '../shared/composition.js';
import { contextLogger } from '../shared/adapters/functions/logger.js';
import { ATTRIBUTES, instruments, SPANS } from '../shared/adapters/functions/telemetry.js';
import { recordSpan, SpanKind } from '../shared/adapters/functions/tracing.js';
import { recordDeliveryReport } from '../shared/pipeline/deliveryReports.js';

export const deliveryReports: EventGridFunctionOptions = {
  handler: async (event: EventGridEvent, context: InvocationContext): Promise<void> => {
    const log = contextLogger(context);
    const started = Date.now();
    const outcome = await recordDeliveryReport(deps().deliveryReport(log), event);
    instruments().deliveryReports.add(1, { [ATTRIBUTES.outcome]: outcome.kind });
    const found = outcome.kind === 'applied' || outcome.kind === 'duplicate' ? outcome : undefined;
    recordSpan(context, {
      name: SPANS.deliveryReport,
      kind: SpanKind.CONSUMER,
      startTime: started,
      ...(found?.traceparent ? { parent: found.traceparent } : {}),
      failed: outcome.kind === 'malformed',
      attributes: {
        [ATTRIBUTES.outcome]: outcome.kind,
        ...(found ? { [ATTRIBUTES.messageId]: found.messageId } : {}),
        ...(outcome.kind === 'applied' ? { [ATTRIBUTES.status]: outcome.status } : {}),
      },
    });
    log.info(`delivery report ${outcome.kind}`, {
      ...(found ? { messageId: found.messageId } : {}),
      durationMs: Date.now() - started,
    });
  },
};
