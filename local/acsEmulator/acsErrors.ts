// Error bodies in ACS's shapes: the { error: { code, message } } envelope, ASP.NET validation
// problems for 400s, and RFC 9457 problem details for 404 on GET /deliveryReports.
import { randomBytes } from 'node:crypto';

export interface AcsErrorEnvelope {
  error: { code: string; message: string; innerError?: null };
}

export function errorEnvelope(code: string, message: string): AcsErrorEnvelope {
  return { error: { code, message } };
}

/** W3C trace id in the form ASP.NET puts in problem details. */
export function traceId(): string {
  return `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-00`;
}

/**
 * A 400 for an invalid body: 'model-state' is the bare dictionary 2021-03-07 answered
 * (`{"From":["Invalid from phone number format."]}`, recordings of 2022); 'problem' is
 * ValidationProblemDetails, the BadRequestErrorResponse of the 2026-01-23 spec and its examples.
 */
export function validationError(
  form: 'model-state' | 'problem',
  errors: Record<string, string[]>,
): { body: unknown; contentType: string } {
  if (form === 'model-state') return { body: errors, contentType: 'application/json; charset=utf-8' };
  return {
    body: {
      type: 'https://tools.ietf.org/html/rfc9110#section-15.5.1',
      title: 'One or more validation errors occurred.',
      status: 400,
      errors,
      traceId: traceId(),
    },
    contentType: 'application/problem+json; charset=utf-8',
  };
}

/** 404 for an unknown delivery report, as in the DeliveryReportGet example. */
export function notFoundProblem(): unknown {
  return { type: 'https://tools.ietf.org/html/rfc9110#section-15.5.5', title: 'Not Found', status: 404, traceId: traceId() };
}
