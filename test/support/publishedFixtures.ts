// Microsoft's published ACS SMS and Event Grid material, copied verbatim into
// test/fixtures/published/ (see SOURCES.md there): typed loaders for the tests that replay it.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const PUBLISHED_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/published');

/** One row of index.json: where a fixture came from. */
export interface PublishedSource {
  file: string;
  kind: 'rest-example' | 'event-example' | 'docs-example' | 'sdk-recording';
  repository: string;
  path: string;
  commit: string;
  url: string;
  chars: number;
  note?: string;
}

export function publishedIndex(): PublishedSource[] {
  return JSON.parse(readFileSync(path.join(PUBLISHED_DIR, 'index.json'), 'utf8')) as PublishedSource[];
}

/** The raw text of a fixture, exactly as published. */
export function publishedText(file: string): string {
  return readFileSync(path.join(PUBLISHED_DIR, file), 'utf8');
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- published JSON of many shapes, read by the tests
export type PublishedJson = any;

export function published(file: string): PublishedJson {
  return JSON.parse(publishedText(file)) as PublishedJson;
}

/** A REST spec example (x-ms-examples): parameters and responses by status code. */
export interface RestExample {
  parameters: Record<string, PublishedJson> & { 'api-version': string };
  responses: Record<string, { headers: Record<string, string>; body: PublishedJson }>;
}

/** An @azure/communication-sms test recording (test-proxy format). */
export interface Recording {
  Entries: Array<{
    RequestUri: string;
    RequestMethod: string;
    RequestHeaders: Record<string, string>;
    RequestBody: PublishedJson;
    StatusCode: number;
    ResponseHeaders: Record<string, string>;
    ResponseBody: PublishedJson;
  }>;
  Variables: Record<string, string>;
}

/** Every published SMS event example file, with the schema and casing it is written in. */
export function publishedSmsEvents(): Array<{
  file: string;
  type: 'Microsoft.Communication.SMSDeliveryReportReceived' | 'Microsoft.Communication.SMSReceived';
  schema: 'EventGridSchema' | 'CloudEventSchemaV1_0';
  casing: 'camel' | 'pascal';
}> {
  return publishedIndex()
    .filter((s) => s.file.startsWith('events/'))
    .map((s) => ({
      file: s.file,
      type: s.file.includes('sms_delivery_report_received')
        ? ('Microsoft.Communication.SMSDeliveryReportReceived' as const)
        : ('Microsoft.Communication.SMSReceived' as const),
      schema: s.file.includes('cloud-events-schema') ? ('CloudEventSchemaV1_0' as const) : ('EventGridSchema' as const),
      casing: s.file.includes('.pascal.') ? ('pascal' as const) : ('camel' as const),
    }));
}
