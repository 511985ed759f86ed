// W3C traceparent text ⇄ OpenTelemetry context, for the hops where the context travels as text:
// a send job's `traceparent`, a message record's, a Service Bus message's Diagnostic-Id, the
// `traceparent` header of the ACS request.
import { context, propagation, ROOT_CONTEXT, type Context } from '@opentelemetry/api';
import { isTraceparent } from '../../domain/traceContext.js';

/** A context whose span is the remote one a traceparent names (ROOT when it names none). */
export function contextOf(traceparent: string | undefined, tracestate?: string): Context {
  if (!traceparent || !isTraceparent(traceparent)) return ROOT_CONTEXT;
  return propagation.extract(ROOT_CONTEXT, { traceparent, ...(tracestate ? { tracestate } : {}) });
}

/** The traceparent of the active span, when there is one (nothing while telemetry is off). */
export function activeTraceparent(active: Context = context.active()): string | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(active, carrier);
  return carrier.traceparent && isTraceparent(carrier.traceparent) ? carrier.traceparent : undefined;
}
