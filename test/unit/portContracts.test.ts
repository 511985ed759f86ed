// Every port contract against its in-memory fake: the fakes the use-case tests run on must keep
// the promises the real adapters keep (test/integration/portContracts.test.ts runs the same suites
// against Table Storage on Azurite).
import { consentLogContract, optOutStoreContract } from '../contract/ports/consentStores.js';
import { budgetLedgerContract, fraudWatchStoreContract, sendingControlStoreContract } from '../contract/ports/guardStores.js';
import { messageStoreContract } from '../contract/ports/messageStore.js';
import {
  conversationStoreContract,
  deadLetterStoreContract,
  deliveryTrackerContract,
  idempotencyStoreContract,
} from '../contract/ports/otherStores.js';
import { templateStoreContract } from '../contract/ports/templateStore.js';
import { linkStoreContract } from '../contract/ports/linkStore.js';
import { FakeLinkStore } from '../support/linkFakes.js';
import {
  FakeConsentLog,
  FakeConversations,
  FakeDeadLetters,
  FakeMessageStore,
  FakeOptOuts,
  FakeTemplates,
  FakeTracker,
} from '../support/fakes.js';
import { FakeBudgetLedger, FakeFraudWatch, FakeSendingControls } from '../support/guardFakes.js';
import { FakeFrequencyCapLedger } from '../support/sendRuleFakes.js';
import { frequencyCapLedgerContract } from '../contract/ports/sendRuleStores.js';
import { MemoryIdempotencyStore } from '../support/memoryIdempotencyStore.js';

messageStoreContract('fake', async () => new FakeMessageStore());
optOutStoreContract('fake', async () => new FakeOptOuts());
consentLogContract('fake', async () => new FakeConsentLog());
conversationStoreContract('fake', async () => new FakeConversations());
deadLetterStoreContract('fake', async () => new FakeDeadLetters());
deliveryTrackerContract('fake', async () => new FakeTracker());
idempotencyStoreContract('fake', async () => new MemoryIdempotencyStore());
templateStoreContract('fake', async () => new FakeTemplates());
sendingControlStoreContract('fake', async () => new FakeSendingControls());
budgetLedgerContract('fake', async () => new FakeBudgetLedger());
frequencyCapLedgerContract('fake', async () => new FakeFrequencyCapLedger());
fraudWatchStoreContract('fake', async () => new FakeFraudWatch());
const codeKey = new Uint8Array(32).fill(3); // the one key of a deployment, as every instance reads it
linkStoreContract('fake', async () => new FakeLinkStore(codeKey));
