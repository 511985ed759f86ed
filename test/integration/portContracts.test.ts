// Every port contract against the real Table Storage adapter on Azurite (test/unit runs the same
// suites against the fakes). Each suite's tests use keys of their own, so they share one account.
import { afterAll, beforeAll } from 'vitest';
import { startAzurite, type Azurite } from '../../local/azurite.js';
import { createTableAdapters, type TableAdapters } from '../../shared/adapters/tables/tableAdapters.js';
import { consentLogContract, optOutStoreContract } from '../contract/ports/consentStores.js';
import { budgetLedgerContract, fraudWatchStoreContract, sendingControlStoreContract } from '../contract/ports/guardStores.js';
import { messageStoreContract } from '../contract/ports/messageStore.js';
import { frequencyCapLedgerContract } from '../contract/ports/sendRuleStores.js';
import { templateStoreContract } from '../contract/ports/templateStore.js';
import { linkStoreContract } from '../contract/ports/linkStore.js';
import { TableLinkStore } from '../../shared/adapters/tables/linkStore.js';
import {
  conversationStoreContract,
  deadLetterStoreContract,
  deliveryTrackerContract,
  idempotencyStoreContract,
} from '../contract/ports/otherStores.js';

let azurite: Azurite;
let tables: TableAdapters;

beforeAll(async () => {
  azurite = await startAzurite({ silent: true });
  tables = createTableAdapters({ kind: 'connectionString', connectionString: azurite.connectionString });
  await tables.ensureTables();
});

afterAll(async () => {
  await azurite?.stop();
});

messageStoreContract('Table Storage', async () => tables.messages);
optOutStoreContract('Table Storage', async () => tables.optOuts);
consentLogContract('Table Storage', async () => tables.consentLog);
conversationStoreContract('Table Storage', async () => tables.conversations);
deadLetterStoreContract('Table Storage', async () => tables.deadLetters);
deliveryTrackerContract('Table Storage', async () => tables.tracker);
idempotencyStoreContract('Table Storage', async () => tables.idempotency);
templateStoreContract('Table Storage', async () => tables.templates);
sendingControlStoreContract('Table Storage', async () => tables.sendingControls);
budgetLedgerContract('Table Storage', async () => tables.budgets);
frequencyCapLedgerContract('Table Storage', async () => tables.frequencyCaps);
fraudWatchStoreContract('Table Storage', async () => tables.fraudWatch);
// A new adapter each time: instances of the app that share the account, and race for the code key.
linkStoreContract('Table Storage', async () => new TableLinkStore(tables.clientFor));
