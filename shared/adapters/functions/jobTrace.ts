// What the sender's span needs of a queue message before the use case parses it: the job's trace
// context and ids. Read leniently — an invalid job is the use case's to reject (and dead-letter);
// here it only gets a span without a parent.
import { isTraceparent } from '../../domain/traceContext.js';
import { ATTRIBUTES } from '../telemetry/names.js';

export interface JobTrace {
  traceparent?: string;
  /** For the span: job id, batch id, recipients, attempt. */
  attributes: Record<string, string | number>;
  /** For the log entry: jobId, batchId. */
  ids: Record<string, string>;
}

export function jobTraceparent(message: unknown): JobTrace {
  let body: unknown = message;
  try {
    if (typeof message === 'string') body = JSON.parse(message);
    else if (Buffer.isBuffer(message)) body = JSON.parse(message.toString('utf8'));
  } catch {
    return { attributes: {}, ids: {} };
  }
  if (typeof body !== 'object' || body === null) return { attributes: {}, ids: {} };
  const job = body as Record<string, unknown>;
  const text = (v: unknown) => (typeof v === 'string' ? v.slice(0, 128) : undefined);
  const jobId = text(job.jobId);
  const batchId = text(job.batchId);
  const traceparent = text(job.traceparent);
  return {
    ...(traceparent && isTraceparent(traceparent) ? { traceparent } : {}),
    attributes: {
      ...(jobId ? { [ATTRIBUTES.jobId]: jobId } : {}),
      ...(batchId ? { [ATTRIBUTES.batchId]: batchId } : {}),
      ...(Array.isArray(job.recipients) ? { [ATTRIBUTES.recipients]: job.recipients.length } : {}),
      ...(typeof job.attempt === 'number' ? { [ATTRIBUTES.attempt]: job.attempt } : {}),
      ...(typeof job.tag === 'string' ? { [ATTRIBUTES.tag]: job.tag.slice(0, 64) } : {}),
    },
    ids: { ...(jobId ? { jobId } : {}), ...(batchId ? { batchId } : {}) },
  };
}
