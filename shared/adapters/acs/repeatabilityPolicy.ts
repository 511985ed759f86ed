// A pipeline policy for the real SmsClient: it replaces the repeatability id and first-sent time
// the SDK invents on every send() with the ones the pipeline derived and stored, so a redelivered
// send job repeats the same ids and ACS refuses to send twice.
import type { PipelinePolicy } from '@azure/core-rest-pipeline';

/** Request header that carries the per-recipient repeatability values to the policy; never sent. */
export const REPEATABILITY_HEADER = 'x-sms-pipeline-repeatability';

/** Per recipient ("to"), the values to put in the request body. */
export type RepeatabilityMap = Record<string, { repeatabilityRequestId: string; repeatabilityFirstSent: string }>;

export function encodeRepeatability(map: RepeatabilityMap): string {
  return Buffer.from(JSON.stringify(map), 'utf8').toString('base64');
}

/**
 * Must run before the authentication policy, which signs the body's hash: added as a perCall
 * policy through the client's `additionalPolicies`, it is ordered ahead of the auth policy that
 * SmsClient adds afterwards.
 */
export const repeatabilityPolicy: PipelinePolicy = {
  name: 'smsPipelineRepeatabilityPolicy',
  async sendRequest(request, next) {
    const encoded = request.headers.get(REPEATABILITY_HEADER);
    if (encoded !== undefined) {
      request.headers.delete(REPEATABILITY_HEADER);
      const map = JSON.parse(Buffer.from(encoded, 'base64').toString('utf8')) as RepeatabilityMap;
      if (typeof request.body !== 'string') throw new Error('repeatability policy expects a serialized JSON body');
      const body = JSON.parse(request.body) as { smsRecipients?: Array<Record<string, unknown> & { to: string }> };
      for (const recipient of body.smsRecipients ?? []) {
        const values = map[recipient.to];
        if (!values) throw new Error('repeatability values missing for a recipient of the request');
        recipient.repeatabilityRequestId = values.repeatabilityRequestId;
        recipient.repeatabilityFirstSent = values.repeatabilityFirstSent;
      }
      request.body = JSON.stringify(body);
    }
    return next(request);
  },
};
