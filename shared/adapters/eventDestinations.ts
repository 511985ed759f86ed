// Where the pipeline's events are delivered, from the configuration: one webhook per
// STATUS_WEBHOOK_URLS entry and the Event Grid topic when EVENTGRID_TOPIC_ENDPOINT is set.
// The composition root adds these to its destination list, beside any other (analytics).
import type { Config } from '../config.js';
import type { EventDestination } from '../ports/events.js';
import { EventGridDestination } from './eventgrid/eventGridDestination.js';
import { WebhookDestination } from './webhooks/webhookDestination.js';

export function eventDestinations(cfg: Pick<Config, 'webhooks' | 'eventGrid'>): EventDestination[] {
  const destinations: EventDestination[] = [];
  if (cfg.webhooks.secret) {
    for (const url of cfg.webhooks.urls) {
      destinations.push(
        new WebhookDestination({
          url,
          secret: cfg.webhooks.secret,
          ...(cfg.webhooks.eventTypes ? { types: cfg.webhooks.eventTypes } : {}),
        }),
      );
    }
  }
  if (cfg.eventGrid) destinations.push(new EventGridDestination(cfg.eventGrid));
  return destinations;
}
