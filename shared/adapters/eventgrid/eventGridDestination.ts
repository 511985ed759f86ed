// Publishes the pipeline's events to its Event Grid topic (CloudEvents 1.0 input schema), where
// apps subscribe with filters, retries and dead-lettering of their own. In Azure the function's
// managed identity publishes (EventGrid Data Sender on the topic; keys are disabled there); a key
// (EVENTGRID_TOPIC_KEY) is for other setups. The SDK is imported on first delivery, not at start.
import type { SendCloudEventInput } from '@azure/eventgrid';
import type { Config } from '../../config.js';
import { isLoopbackUrl } from '../../lib/urls.js';
import type { PipelineEvent } from '../../domain/events.js';
import type { EventDestination } from '../../ports/events.js';
import { parseRetryAfter } from '../../lib/retryAfter.js';

/** Longest wait for the topic to answer one publish (the SDK's own retries included). */
export const EVENTGRID_TIMEOUT_MS = 30_000;

/** What this destination needs of EventGridPublisherClient<'CloudEvent'>. */
export interface CloudEventPublisher {
  send(events: Array<SendCloudEventInput<unknown>>, options?: { abortSignal?: AbortSignal }): Promise<void>;
}

export type EventGridSettings = NonNullable<Config['eventGrid']>;

export class EventGridDeliveryError extends Error {
  constructor(
    message: string,
    readonly status?: number,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'EventGridDeliveryError';
  }
}

export class EventGridDestination implements EventDestination {
  readonly name = 'eventgrid';
  private client?: Promise<CloudEventPublisher>;

  constructor(
    private readonly settings: EventGridSettings,
    private readonly createClient: (settings: EventGridSettings) => Promise<CloudEventPublisher> = createPublisherClient,
  ) {}

  async deliver(events: readonly PipelineEvent[]): Promise<void> {
    if (events.length === 0) return;
    this.client ??= this.createClient(this.settings).catch((error: unknown) => {
      this.client = undefined;
      throw error;
    });
    const client = await this.client;
    try {
      await client.send(events.map(toCloudEventInput), { abortSignal: AbortSignal.timeout(EVENTGRID_TIMEOUT_MS) });
    } catch (error) {
      const e = error as {
        statusCode?: number;
        message?: string;
        name?: string;
        response?: { headers?: { get(name: string): string | undefined } };
      };
      const status = typeof e.statusCode === 'number' ? e.statusCode : undefined;
      const detail =
        status !== undefined ? `HTTP ${status}` : e.name === 'AbortError' ? 'no answer within the timeout' : 'request failed';
      throw new EventGridDeliveryError(
        `Event Grid topic refused the events: ${detail}${e.message ? ` (${e.message.slice(0, 200)})` : ''}`,
        status,
        parseRetryAfter(e.response?.headers?.get('retry-after')),
      );
    }
  }
}

/** A pipeline event as the SDK's CloudEvent input: the same attributes, `time` as a Date. */
export function toCloudEventInput(event: PipelineEvent): SendCloudEventInput<unknown> {
  const time = new Date(event.time);
  return {
    type: event.type,
    source: event.source,
    id: event.id,
    subject: event.subject,
    ...(Number.isNaN(time.getTime()) ? {} : { time }),
    datacontenttype: event.datacontenttype,
    data: event.data,
  };
}

async function createPublisherClient(settings: EventGridSettings): Promise<CloudEventPublisher> {
  const { EventGridPublisherClient, AzureKeyCredential } = await import('@azure/eventgrid');
  // Plain http only to this machine (tests, a local stand-in); config.ts refuses anything else.
  const options = {
    allowInsecureConnection: isLoopbackUrl(new URL(settings.endpoint)),
    // Retrying is the dispatcher's job (backoff through the outbox queue, Retry-After honoured
    // there): the SDK's own retries would sleep inside the invocation, up to a throttled topic's
    // Retry-After each time.
    retryOptions: { maxRetries: 0 },
  };
  if (settings.key)
    return new EventGridPublisherClient(settings.endpoint, 'CloudEvent', new AzureKeyCredential(settings.key), options);
  const { DefaultAzureCredential } = await import('@azure/identity');
  const credential = new DefaultAzureCredential(settings.clientId ? { managedIdentityClientId: settings.clientId } : {});
  return new EventGridPublisherClient(settings.endpoint, 'CloudEvent', credential, options);
}
