// Time and logging: what every use case may ask of the process it runs in.

/** Time, so tests can move it. */
export interface Clock {
  now(): Date;
  sleep(ms: number): Promise<void>;
}

/**
 * Named properties of a log entry. They reach Application Insights as custom dimensions. Phone
 * numbers are masked by the logger (properties named to, from, phone, recipient, sender); message
 * texts never belong here.
 */
export type LogProperties = Record<string, unknown>;

/** Structured logging: a fixed message, and what varies in named properties. */
export interface Logger {
  info(message: string, properties?: LogProperties): void;
  warn(message: string, properties?: LogProperties): void;
  error(message: string, properties?: LogProperties): void;
}
