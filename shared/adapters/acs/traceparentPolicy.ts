// Puts the active trace context on each ACS request as the W3C `traceparent` header, so the ACS
// request is the `sms.acs.send` span's child wherever it is looked at. The SDK does not do it by
// itself: its pipeline's tracingPolicy takes the header from @azure/core-tracing's instrumenter
// (core-rest-pipeline src/policies/tracingPolicy.ts, `createRequestHeaders`), and the default
// instrumenter returns no headers (core-tracing src/instrumenter.ts, createDefaultInstrumenter) —
// only an app that registers one (@azure/opentelemetry-instrumentation-azure-sdk) gets them. The
// header is not among those the HMAC signature covers (x-ms-date, host, x-ms-content-sha256), so
// adding it changes nothing else.
import type { PipelinePolicy } from '@azure/core-rest-pipeline';
import { activeTraceparent } from '../telemetry/traceparent.js';

export const traceparentPolicy: PipelinePolicy = {
  name: 'smsPipelineTraceparentPolicy',
  async sendRequest(request, next) {
    const traceparent = activeTraceparent();
    if (traceparent && !request.headers.has('traceparent')) request.headers.set('traceparent', traceparent);
    return next(request);
  },
};
