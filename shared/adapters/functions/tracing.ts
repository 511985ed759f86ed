// Spans of the functions: each runs its use case inside a span of its own, so everything it does
// (the queue put, the ACS request, every log entry) belongs to the message's trace.
//
// Where the parent comes from. The Functions host gives every invocation the W3C trace context of
// its own invocation span in InvocationContext.traceContext (traceParent, traceState; @azure/functions
// types/InvocationContext.d.ts) — for an HTTP trigger, a child of the caller's `traceparent` header.
// Microsoft's instrumentation makes that the active context before the handler runs
// (Azure/azure-functions-nodejs-opentelemetry src/instrumentation.ts, preInvocation hook, and its
// DISTRIBUTED_TRACING_FIX.md); here each handler reads it itself, which works the same under the
// local host (local/host/invocation.ts sets traceContext as the host does). A message's later hops
// take their parent from the message instead: a send job from its `traceparent` (the queue put that
// carried it), a delivery report from the record's — then the invocation's own span is a link.
import type { InvocationContext } from '@azure/functions';
import {
  context as otelContext,
  ROOT_CONTEXT,
  SpanStatusCode,
  trace,
  type Context,
  type Link,
  type Span,
  type SpanKind,
} from '@opentelemetry/api';
import { isTraceparent } from '../../domain/traceContext.js';
import type { Logger, LogProperties } from '../../ports/runtime.js';
import type { SpanName } from '../telemetry/names.js';
import { maskText, toAttributes } from '../telemetry/privacy.js';
import { contextOf } from '../telemetry/traceparent.js';
import { contextLogger } from './logger.js';

export { SpanKind } from '@opentelemetry/api';

const tracer = () => trace.getTracer('sms-pipeline');

/** The invocation's span as the host reports it, when it does. */
export function invocationContext(context: InvocationContext): Context | undefined {
  const traceContext = context.traceContext;
  const extracted = contextOf(traceContext?.traceParent ?? undefined, traceContext?.traceState ?? undefined);
  return extracted === ROOT_CONTEXT ? undefined : extracted;
}

export interface SpanSpec {
  name: SpanName;
  kind: SpanKind;
  /** The message's traceparent: the span's parent instead of the invocation (then linked). */
  parent?: string;
  /** Other traces this one relates to (a reply's outbound message). */
  links?: readonly string[];
  attributes?: LogProperties;
}

export interface TracedScope {
  span: Span;
  log: Logger;
  elapsedMs(): number;
  /** Adds masked attributes to the span. */
  set(properties: LogProperties): void;
}

function linksOf(spec: SpanSpec, invocation: Context | undefined): Link[] {
  const contexts = [...(spec.parent && invocation ? [invocation] : []), ...(spec.links ?? []).map((l) => contextOf(l))];
  return contexts.flatMap((c) => {
    const spanContext = trace.getSpanContext(c);
    return spanContext ? [{ context: spanContext }] : [];
  });
}

/**
 * Runs `run` inside a new span (child of the message's trace when `spec.parent` names it, else of
 * the invocation). A throw marks the span failed, with the error's message masked.
 */
export async function traced<T>(context: InvocationContext, spec: SpanSpec, run: (scope: TracedScope) => Promise<T>): Promise<T> {
  const invocation = invocationContext(context);
  const parent = spec.parent && isTraceparent(spec.parent) ? contextOf(spec.parent) : (invocation ?? ROOT_CONTEXT);
  const span = tracer().startSpan(
    spec.name,
    { kind: spec.kind, attributes: toAttributes(spec.attributes ?? {}), links: linksOf(spec, invocation) },
    parent,
  );
  const started = performance.now();
  const scope: TracedScope = {
    span,
    log: contextLogger(context),
    elapsedMs: () => Math.round(performance.now() - started),
    set: (properties) => span.setAttributes(toAttributes(properties)),
  };
  try {
    return await otelContext.with(trace.setSpan(parent, span), () => run(scope));
  } catch (error) {
    const message = maskText(error instanceof Error ? error.message : String(error)).slice(0, 500);
    span.recordException({ name: error instanceof Error ? error.name : 'Error', message });
    span.setStatus({ code: SpanStatusCode.ERROR, message });
    throw error;
  } finally {
    span.end();
  }
}

/** Links `span` to the trace a stored traceparent names (a reply to the message it answers); ignores an invalid one. */
export function linkTo(span: Span, traceparent: string | undefined): void {
  const spanContext = trace.getSpanContext(contextOf(traceparent));
  if (spanContext) span.addLink({ context: spanContext });
}

/**
 * A span for work already done, placed in the trace it belongs to once that is known: a delivery
 * report's, whose message (and so its trace) is found only by handling it.
 */
export function recordSpan(context: InvocationContext, spec: SpanSpec & { startTime: number; failed?: boolean }): void {
  const invocation = invocationContext(context);
  const parent = spec.parent && isTraceparent(spec.parent) ? contextOf(spec.parent) : (invocation ?? ROOT_CONTEXT);
  const span = tracer().startSpan(
    spec.name,
    {
      kind: spec.kind,
      attributes: toAttributes(spec.attributes ?? {}),
      links: linksOf(spec, invocation),
      startTime: spec.startTime,
    },
    parent,
  );
  if (spec.failed) span.setStatus({ code: SpanStatusCode.ERROR });
  span.end();
}
