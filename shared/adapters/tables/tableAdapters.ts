// Every Table Storage adapter of one account, sharing its clients; and the tables they need.
import type { Config } from '../../config.js';
import { TABLES } from '../../resourceNames.js';
import { storageCall } from '../outage.js';
import { TableAnalyticsStore } from './analyticsStore.js';
import { TableBudgetLedger } from './budgetLedger.js';
import { TableConsentLog } from './consentLog.js';
import { TableConversationStore } from './conversationStore.js';
import { TableDeadLetterStore } from './deadLetterStore.js';
import { TableDeliveryTracker } from './deliveryTracker.js';
import { TableFraudWatchStore } from './fraudWatchStore.js';
import { TableFrequencyCapLedger } from './frequencyCapLedger.js';
import { TableRetentionStore } from './retentionStore.js';
import { TableIdempotencyStore } from './idempotencyStore.js';
import { TableLinkStore } from './linkStore.js';
import { TableMessageStore } from './messageStore.js';
import { TableOptOutStore } from './optOutStore.js';
import { TableRateLimiter } from './rateLimiter.js';
import { TableSendingControlStore } from './sendingControlStore.js';
import { TableSubmissionStore } from './submissionStore.js';
import { TableTemplateStore } from './templateStore.js';
import { createTableClientFactory, type ClientFor, type TableClientOptions } from './tableClients.js';

export interface TableAdapters {
  messages: TableMessageStore;
  optOuts: TableOptOutStore;
  deadLetters: TableDeadLetterStore;
  rateLimiter: TableRateLimiter;
  tracker: TableDeliveryTracker;
  consentLog: TableConsentLog;
  conversations: TableConversationStore;
  idempotency: TableIdempotencyStore;
  submissions: TableSubmissionStore;
  analytics: TableAnalyticsStore;
  templates: TableTemplateStore;
  sendingControls: TableSendingControlStore;
  budgets: TableBudgetLedger;
  fraudWatch: TableFraudWatchStore;
  links: TableLinkStore;
  frequencyCaps: TableFrequencyCapLedger;
  retention: TableRetentionStore;
  clientFor: ClientFor;
  /** Creates the tables when missing (infra creates them in Azure). */
  ensureTables(): Promise<void>;
}

export function createTableAdapters(storage: Config['storage'], options: TableClientOptions = {}): TableAdapters {
  const clientFor = createTableClientFactory(storage, options);
  const messages = new TableMessageStore(clientFor);
  return {
    messages,
    optOuts: new TableOptOutStore(clientFor),
    deadLetters: new TableDeadLetterStore(clientFor),
    rateLimiter: new TableRateLimiter(clientFor),
    tracker: new TableDeliveryTracker(clientFor),
    consentLog: new TableConsentLog(clientFor),
    conversations: new TableConversationStore(clientFor),
    idempotency: TableIdempotencyStore.fromClientFor(clientFor),
    submissions: new TableSubmissionStore(clientFor),
    analytics: new TableAnalyticsStore(clientFor),
    templates: new TableTemplateStore(clientFor),
    sendingControls: new TableSendingControlStore(clientFor),
    budgets: new TableBudgetLedger(clientFor),
    fraudWatch: new TableFraudWatchStore(clientFor),
    links: new TableLinkStore(clientFor),
    frequencyCaps: new TableFrequencyCapLedger(clientFor),
    retention: new TableRetentionStore(clientFor, messages.references),
    clientFor,
    async ensureTables() {
      await Promise.all(
        Object.values(TABLES).map(async (name) => {
          const client = await clientFor(name);
          await storageCall(`create table ${name}`, () => client.createTable());
        }),
      );
    },
  };
}
