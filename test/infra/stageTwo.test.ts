// Stage two's template (infra/eventgrid-subscriptions.bicep), compiled and evaluated as the hook
// deploys it: each function subscribed to the ACS event it handles through the platform (no key),
// retried at Event Grid's maximums, dead-lettered with the system topic's identity, and named per
// environment on a shared topic.
import { describe, expect, it } from 'vitest';
import { evaluateTemplate, plain, type Resource } from './armTemplate.js';
import { baseEnv, provision, stageTwo } from './environments.js';

const params = {
  systemTopicName: 'egst-acs-abc',
  functionAppName: 'func-api-abc',
  appResourceGroupName: 'rg-sms-dev',
  deadLetterStorageAccountName: 'stabc',
  deadLetterContainerName: 'eventgrid-deadletters',
};

const subscriptions = (extra: Record<string, string> = {}) =>
  evaluateTemplate(stageTwo, { parameters: { ...params, ...extra }, resourceGroup: 'rg-sms-numbers' }).resources.filter(
    (r) => r.type === 'Microsoft.EventGrid/systemTopics/eventSubscriptions',
  );
interface Subscription {
  destination: { endpointType: string; properties: { resourceId: string } };
  filter: { includedEventTypes: string[] };
  retryPolicy: unknown;
  deadLetterWithResourceIdentity: {
    identity: { type: string };
    deadLetterDestination: { endpointType: string; properties: { resourceId: string; blobContainerName: string } };
  };
}
const props = (r: Resource) => plain(r.body.properties!) as Subscription;

describe('stage two: the ACS event subscriptions', () => {
  it("subscribes each function to the ACS event it handles, through the platform (AzureFunction), in the topic's group", () => {
    const byFunction = Object.fromEntries(
      subscriptions().map((s) => [
        String(props(s).destination.properties.resourceId).split('/functions/')[1],
        props(s).filter.includedEventTypes,
      ]),
    );
    expect(byFunction).toEqual({
      deliveryReports: ['Microsoft.Communication.SMSDeliveryReportReceived'],
      inboundSms: ['Microsoft.Communication.SMSReceived'],
    });
    for (const s of subscriptions()) {
      expect(props(s).destination.endpointType).toBe('AzureFunction');
      // The function app lives in the app's group even when the topic lives in the ACS resource's.
      expect(props(s).destination.properties.resourceId).toMatch(
        /\/resourceGroups\/rg-sms-dev\/providers\/Microsoft\.Web\/sites\/func-api-abc\/functions\//,
      );
      expect(s.id).toMatch(
        /\/resourceGroups\/rg-sms-numbers\/providers\/Microsoft\.EventGrid\/systemTopics\/egst-acs-abc\/eventSubscriptions\//,
      );
    }
  });

  it("retries for a day, 30 times, then dead-letters to blob storage with the system topic's identity", () => {
    for (const s of subscriptions()) {
      expect(props(s).retryPolicy).toEqual({ maxDeliveryAttempts: 30, eventTimeToLiveInMinutes: 1440 });
      const deadLetter = props(s).deadLetterWithResourceIdentity;
      expect(deadLetter.identity.type).toBe('SystemAssigned');
      expect(deadLetter.deadLetterDestination).toMatchObject({
        endpointType: 'StorageBlob',
        properties: { blobContainerName: 'eventgrid-deadletters' },
      });
      expect(deadLetter.deadLetterDestination.properties.resourceId).toMatch(
        /\/resourceGroups\/rg-sms-dev\/providers\/Microsoft\.Storage\/storageAccounts\/stabc$/,
      );
    }
  });

  it('names the subscriptions after the environment on a topic it did not create', () => {
    expect(
      subscriptions()
        .map((s) => s.name.split('/')[1])
        .sort(),
    ).toEqual(['sms-delivery-reports', 'sms-received']);
    expect(
      subscriptions({ subscriptionNameSuffix: '-sms-dev' })
        .map((s) => s.name.split('/')[1])
        .sort(),
    ).toEqual(['sms-delivery-reports-sms-dev', 'sms-received-sms-dev']);
    expect(provision(baseEnv).outputs.EVENTGRID_SUBSCRIPTION_SUFFIX).toBe('');
    expect(
      provision({ ...baseEnv, ACS_RESOURCE_NAME: 'acs-shared', ACS_SYSTEM_TOPIC_NAME: 'acs-shared-events' }).outputs
        .EVENTGRID_SUBSCRIPTION_SUFFIX,
    ).toBe('-sms-dev');
  });

  it('main.bicep outputs every value the hooks pass to stage two', () => {
    const outputs = provision(baseEnv).outputs;
    for (const name of [
      'AZURE_RESOURCE_GROUP',
      'AZURE_FUNCTION_APP_NAME',
      'EVENTGRID_SYSTEM_TOPIC_NAME',
      'EVENTGRID_SYSTEM_TOPIC_RESOURCE_GROUP',
      'EVENTGRID_SUBSCRIPTION_SUFFIX',
      'AZURE_STORAGE_ACCOUNT_NAME',
      'EVENTGRID_DEADLETTER_CONTAINER',
      'SERVICE_API_URI',
    ]) {
      expect(outputs, name).toHaveProperty(name);
    }
    for (const name of Object.keys(outputs)) expect(name, 'azd outputs are UPPER_SNAKE').toMatch(/^[A-Z][A-Z0-9_]*$/);
  });
});
