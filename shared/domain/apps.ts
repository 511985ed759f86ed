// Apps: the callers of the pipeline as first-class ideas (docs/security.md "Apps"). Each request is
// attributed to an app (caller.ts); an app listed in SMS_APPS has its own sender pool, defaults,
// budgets and webhook, and sees only its own records. Pure: the rules, not where they are read.
import type { MessageCategory } from './category.js';
import { DEFAULT_APP } from './caller.js';
import type { Sender } from './sender.js';

/** An app id as recorded: an Entra client id (a GUID) or a key's name. */
export const APP_ID_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;

/** One app of SMS_APPS, with its settings checked and cross-checked against the pool. */
export interface AppPolicy {
  id: string;
  /** A display name (the dashboard, the docs). */
  name: string;
  /** Its own numbers, a subset of SMS_SENDERS that no other app claims; absent: the whole pool. */
  senders?: readonly string[];
  /** Its requests' tag and category when they name none. */
  tag?: string;
  category?: MessageCategory;
  /** Where its events go (besides the global webhooks), signed with its own secret. */
  webhook?: { url: string; secret: string; eventTypes?: readonly string[] };
}

/** The apps of SMS_APPS by id; an app not in it (the default app among them) has today's global behaviour. */
export type AppDirectory = ReadonlyMap<string, AppPolicy>;

export const NO_APPS: AppDirectory = new Map();

/** The app a record belongs to: records older than apps, and jobs enqueued without one, are the default app's. */
export function appOf(thing: { app?: string | undefined }): string {
  return thing.app ?? DEFAULT_APP;
}

/**
 * The senders an app sends from: its own pool when SMS_APPS gives it one, else the whole pool
 * (the pool's stickiness and country choice then apply within what this returns).
 */
export function sendersOfApp(all: readonly Sender[], apps: AppDirectory, app: string): readonly Sender[] {
  const own = apps.get(app)?.senders;
  if (!own) return all;
  return all.filter((s) => own.includes(s.number));
}

/**
 * The numbers `app` sends from: its own when it has some, else the pool without the numbers other
 * apps own — a number belongs to at most one app, so a reply to it reaches that app alone, never a
 * text the default app sent from it.
 */
export function sendingPoolOf(all: readonly Sender[], apps: AppDirectory, app: string): readonly Sender[] {
  if (apps.get(app)?.senders) return sendersOfApp(all, apps, app);
  const owned = new Set([...apps.values()].flatMap((a) => a.senders ?? []));
  return owned.size === 0 ? all : all.filter((s) => !owned.has(s.number));
}

/** The app that owns a number of the pool (inbound replies to it are that app's), if one does. */
export function ownerOfNumber(apps: AppDirectory, number: string): string | undefined {
  for (const app of apps.values()) if (app.senders?.includes(number)) return app.id;
  return undefined;
}

/**
 * Which records a caller may see. Every caller except the default app (function keys without a
 * mapping, and the stack with authentication off) is confined to its own app's records; the
 * default app sees every app's, as before apps existed. Undefined: no confinement.
 */
export function visibleApp(callerApp: string): string | undefined {
  return callerApp === DEFAULT_APP ? undefined : callerApp;
}

/** Whether a caller of `callerApp` may see a record of `recordApp` (else it is answered as absent). */
export function canSee(callerApp: string, record: { app?: string | undefined }): boolean {
  const confined = visibleApp(callerApp);
  return confined === undefined || appOf(record) === confined;
}

/** A request with the app's defaults filled in where it says nothing (its tag, its category). */
export function withAppDefaults<T extends { tag?: string | undefined; category?: MessageCategory | undefined }>(
  request: T,
  policy: AppPolicy | undefined,
): T {
  if (!policy) return request;
  return {
    ...request,
    ...(request.tag === undefined && policy.tag ? { tag: policy.tag } : {}),
    ...(request.category === undefined && policy.category ? { category: policy.category } : {}),
  };
}

/** Problems of SMS_APPS against the pool: a number not in SMS_SENDERS, or claimed by two apps. */
export function appPoolProblems(apps: Iterable<AppPolicy>, pool: readonly string[]): string[] {
  const problems: string[] = [];
  const claimedBy = new Map<string, string>();
  for (const app of apps) {
    for (const number of app.senders ?? []) {
      if (!pool.includes(number)) problems.push(`SMS_APPS [${app.id}.senders] names ${number}, which is not in SMS_SENDERS`);
      const other = claimedBy.get(number);
      if (other !== undefined && other !== app.id)
        problems.push(
          `SMS_APPS [${app.id}.senders] names ${number}, which is ${other}'s already: a number belongs to one app, so its replies reach one webhook`,
        );
      claimedBy.set(number, app.id);
    }
  }
  return problems;
}

/**
 * An Idempotency-Key's scope for `app`: one app's key never answers another's request. The
 * default app keeps the bare scope, so keys given before apps existed still replay.
 */
export function idempotencyScopeOf(operation: string, app: string): string {
  return app === DEFAULT_APP ? operation : `${operation}@${app}`;
}
