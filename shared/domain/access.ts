// Which permission (app role) each operation of the HTTP API needs: the one table of it. The
// operation is the function's name (context.functionName, the route's operationId). An operation
// missing here is refused to every caller, and a contract test fails (test/unit/access.test.ts).
import { DEFAULT_APP, type Caller, type Permission } from './caller.js';

/** Operations anyone may call, without a key or a token: from a phone, a load balancer, a browser. */
export const ANONYMOUS_OPERATIONS = ['health', 'openApi', 'followLink'] as const;

/**
 * The permission each operation needs. Sending covers what a sending app does with its own
 * messages (preview, cancel, templates, reporting a conversion); reading covers messages and
 * batches; consent, conversations, figures and erasure each have their own role, because each
 * shows or changes personal data a sending app does not need. Reading the guard's state and the
 * detailed health goes with the figures (the dashboard shows both); Sending.Manage is the
 * operator's: the pause switch, budgets, and fraud holds (which name recipients).
 */
export const OPERATION_PERMISSIONS: Readonly<Record<string, Permission>> = {
  submitMessages: 'Messages.Send',
  previewMessages: 'Messages.Send',
  cancelMessage: 'Messages.Send',
  recordConversion: 'Messages.Send',
  putTemplate: 'Messages.Send',
  getTemplate: 'Messages.Send',
  deleteTemplate: 'Messages.Send',
  listTemplates: 'Messages.Send',
  getMessage: 'Messages.Read',
  listMessages: 'Messages.Read',
  getBatch: 'Messages.Read',
  getOptOut: 'OptOuts.Manage',
  addOptOut: 'OptOuts.Manage',
  removeOptOut: 'OptOuts.Manage',
  listOptOuts: 'OptOuts.Manage',
  getConsentHistory: 'OptOuts.Manage',
  getConversation: 'Conversations.Read',
  getAnalytics: 'Analytics.Read',
  dashboard: 'Analytics.Read',
  eraseSubject: 'Subjects.Erase',
  getSending: 'Analytics.Read',
  healthDetails: 'Analytics.Read',
  setSending: 'Sending.Manage',
  listHolds: 'Sending.Manage',
  getHold: 'Sending.Manage',
  releaseHold: 'Sending.Manage',
};

export type Access = { kind: 'anonymous' } | { kind: 'permission'; permission: Permission } | { kind: 'unknown' };

/** What calling `operation` takes. */
export function accessOf(operation: string): Access {
  if ((ANONYMOUS_OPERATIONS as readonly string[]).includes(operation)) return { kind: 'anonymous' };
  const permission = Object.hasOwn(OPERATION_PERMISSIONS, operation) ? OPERATION_PERMISSIONS[operation] : undefined;
  return permission ? { kind: 'permission', permission } : { kind: 'unknown' };
}

/** The caller of an anonymous operation: the default app, allowed nothing that needs a permission. */
export const ANONYMOUS_CALLER: Caller = { app: DEFAULT_APP, permissions: new Set(), via: 'none' };

/** The permissions among a token's roles; other roles (of other APIs, misspelt) give nothing. */
export function permissionsOf(roles: readonly string[], known: readonly Permission[]): Set<Permission> {
  return new Set(known.filter((p) => roles.includes(p)));
}
