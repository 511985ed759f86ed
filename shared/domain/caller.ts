// Who is calling the HTTP API: an app, and what it may do. Each request is attributed to one app
// (from an Entra ID token's azp/appid, or a function key's name), and each route needs one
// permission (an app role of the pipeline's app registration).

/** The app roles a caller can hold; each route of the API needs one of them. */
export const PERMISSIONS = [
  'Messages.Send',
  'Messages.Read',
  'OptOuts.Manage',
  'Conversations.Read',
  'Analytics.Read',
  'Subjects.Erase',
  // The fraud and spend guard's switches (pause, budgets, fraud holds) and the detailed health:
  // operating the pipeline, which none of the six above covers (docs/security.md).
  'Sending.Manage',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

/** The app a request is attributed to when nothing names one (function keys without a mapping, the local stack). */
export const DEFAULT_APP = 'default';

export interface Caller {
  /** The app's id as recorded on batches, messages and events. */
  app: string;
  permissions: ReadonlySet<Permission>;
  /** How the caller proved who it is. */
  via: 'entra' | 'key' | 'none';
}

/** A caller who may do everything, as the default app: function keys with no role mapping, and the local stack. */
export const UNRESTRICTED_CALLER: Caller = { app: DEFAULT_APP, permissions: new Set(PERMISSIONS), via: 'none' };
