// The telemetry settings (shared/adapters/telemetry, docs/operations.md), part of settingsSchema
// (settings.ts) like every other setting; kept apart so settings.ts stays readable.
import { z } from 'zod';

export const telemetrySettings = {
  /**
   * Where the pipeline's traces, metrics and logs go (docs/operations.md): auto (Azure Monitor when
   * APPLICATIONINSIGHTS_CONNECTION_STRING is set, else nowhere), azureMonitor, console (JSON lines on
   * stdout), file (JSON lines appended to TELEMETRY_FILE), memory (kept in the process; the local
   * host serves it at /admin/telemetry, for tests) or none.
   */
  TELEMETRY_EXPORTER: z
    .enum(['auto', 'azureMonitor', 'console', 'file', 'memory', 'none'], {
      message: 'must be auto, azureMonitor, console, file, memory or none',
    })
    .default('auto'),
  /** The file TELEMETRY_EXPORTER=file appends to, one JSON object per line. */
  TELEMETRY_FILE: z.string().trim().min(1).max(500).default('telemetry.jsonl'),
  /** Application Insights: set by infra in Azure (an ingestion address; the component accepts only Entra tokens). */
  APPLICATIONINSIGHTS_CONNECTION_STRING: z
    .string()
    .regex(
      /(^|;)\s*InstrumentationKey=[0-9a-fA-F-]{36}/i,
      'must be an Application Insights connection string (InstrumentationKey=…;IngestionEndpoint=…)',
    )
    .optional(),
  /** "Authorization=AAD;ClientId=<client id>": telemetry is sent with that managed identity's token. */
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: z
    .string()
    .regex(
      /^(\s*(Authorization=AAD|ClientId=[0-9a-fA-F-]{36})\s*;?)+$/i,
      'must be "Authorization=AAD" or "Authorization=AAD;ClientId=<client id of a user-assigned identity>"',
    )
    .optional(),
};
