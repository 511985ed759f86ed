// host.json as the local host reads it: the HTTP route prefix and the Storage queue trigger's
// settings, with the Functions host's defaults where host.json is silent.
import { existsSync, readFileSync } from 'node:fs';

export interface HostJson {
  extensions?: {
    http?: { routePrefix?: string };
    queues?: {
      batchSize?: number;
      newBatchThreshold?: number;
      maxPollingInterval?: string | number;
      visibilityTimeout?: string | number;
      maxDequeueCount?: number;
      messageEncoding?: 'base64' | 'none';
    };
  };
}

export interface QueueSettings {
  batchSize: number;
  newBatchThreshold: number;
  maxPollingIntervalMs: number;
  visibilityTimeoutMs: number;
  maxDequeueCount: number;
  base64: boolean;
  /** How long a received message stays invisible while it runs; renewed at half-time, as the host does. */
  leaseMs: number;
}

/** "00:00:10" or milliseconds → milliseconds. */
export function timeSpanMs(value: string | number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value === 'number') return value;
  const m = /^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d+))?$/.exec(value);
  if (!m) return fallback;
  const [, d, h, min, s, frac] = m;
  return (
    ((Number(d ?? 0) * 24 + Number(h)) * 60 + Number(min)) * 60_000 + Number(s) * 1000 + (frac ? Number(`0.${frac}`) * 1000 : 0)
  );
}

/** LOCAL_QUEUE_LEASE_SECONDS: the local host's message lease (default 600, the Functions host's). */
export function leaseSeconds(): number {
  const raw = process.env.LOCAL_QUEUE_LEASE_SECONDS;
  if (raw === undefined || raw === '') return 600;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 2 || n > 7 * 24 * 3600)
    throw new Error(`LOCAL_QUEUE_LEASE_SECONDS must be a whole number of seconds from 2 to 604800, got "${raw}"`);
  return n;
}

/** Reads host.json (an absent file is all defaults). */
export function readHostJson(path: string | undefined): HostJson {
  return path && existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as HostJson) : {};
}

/** The route prefix, without slashes ("api" by default). */
export function routePrefixOf(hostJson: HostJson): string {
  return (hostJson.extensions?.http?.routePrefix ?? 'api').replace(/^\/+|\/+$/g, '');
}

/** The Storage queue trigger's settings, with the host's defaults. */
export function queueSettingsOf(hostJson: HostJson): QueueSettings {
  const q = hostJson.extensions?.queues ?? {};
  return {
    batchSize: q.batchSize ?? 16,
    newBatchThreshold: q.newBatchThreshold ?? Math.floor((q.batchSize ?? 16) / 2),
    maxPollingIntervalMs: timeSpanMs(q.maxPollingInterval, 60_000),
    visibilityTimeoutMs: timeSpanMs(q.visibilityTimeout, 0),
    maxDequeueCount: q.maxDequeueCount ?? 5,
    base64: (q.messageEncoding ?? 'base64') === 'base64',
    leaseMs: leaseSeconds() * 1000,
  };
}
