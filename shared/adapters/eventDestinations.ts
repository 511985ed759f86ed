// Where the pipeline's events are delivered, from the configuration: one webhook per
// STATUS_WEBHOOK_URLS entry (every event), one per app of SMS_APPS with a webhook (that app's
// events only), and the Event Grid topic when EVENTGRID_TOPIC_ENDPOINT is set.
// The composition root adds these to its destination list, beside any other (analytics).
import type { Config } from '../config.js';
import type { EventDestination } from '../ports/events.js';
import { EventGridDestination } from './eventgrid/eventGridDestination.js';
import { WebhookDestination } from './webhooks/webhookDestination.js';

export function eventDestinations(
  cfg: Pick<Config, 'webhooks' | 'eventGrid'> & Partial<Pick<Config, 'apps'>>,
): EventDestination[] {
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
  // Each app's own webhook (SMS_APPS): only that app's events, signed with its own secret.
  for (const app of cfg.apps?.values() ?? []) {
    if (!app.webhook) continue;
    destinations.push(
      new WebhookDestination({
        url: app.webhook.url,
        secret: app.webhook.secret,
        app: app.id,
        ...(app.webhook.eventTypes ? { types: app.webhook.eventTypes } : {}),
      }),
    );
  }
  if (cfg.eventGrid) destinations.push(new EventGridDestination(cfg.eventGrid));
  return destinations;
}
