// W3C Trace Context (https://www.w3.org/TR/trace-context/#traceparent-header): the one trace id a
// message keeps from its submit to its delivery report. Pure: the telemetry adapters create the
// spans; the domain only says what a valid `traceparent` is and which trace it names.

/**
 * version "00", a 32-hex trace id, a 16-hex parent (span) id and 2-hex flags, lowercase. Version
 * 00 is the only one the spec defines; a later version may add fields, which are not kept here.
 */
export const TRACEPARENT_PATTERN = /^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/;

/** True for a traceparent this pipeline keeps: version 00, and neither id all zeros (invalid per the spec). */
export function isTraceparent(value: string): boolean {
  const match = TRACEPARENT_PATTERN.exec(value);
  return match !== null && !/^0+$/.test(match[1]!) && !/^0+$/.test(match[2]!);
}

/** The trace id of a valid traceparent, else undefined. */
export function traceIdOf(traceparent: string | undefined): string | undefined {
  if (traceparent === undefined || !isTraceparent(traceparent)) return undefined;
  return TRACEPARENT_PATTERN.exec(traceparent)![1];
}
