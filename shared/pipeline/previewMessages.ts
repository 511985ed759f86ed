// A dry run of a submit: what it would do — encoding, segments, the text after smart encoding,
// the sender and opt-out verdict per recipient — without enqueuing, recording or reserving
// anything. It is the submit's own plan.
import { planSubmit, type PlanDeps, type PlanResult, type SubmitRequest } from './submitMessages.js';

export type { PlanDeps } from './submitMessages.js';

export function previewMessages(deps: PlanDeps, request: SubmitRequest): Promise<PlanResult> {
  return planSubmit(deps, request);
}
