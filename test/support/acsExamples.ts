// Examples published by Microsoft for the ACS events the pipeline takes in, verbatim, for the tests
// that check they are accepted. Source: learn.microsoft.com/azure/event-grid/communication-services-telephony-sms-events.

/** The SMSReceived example, Event Grid schema. */
export const OFFICIAL_SMS_RECEIVED = {
  id: 'Incoming_20200918002745d29ebbea-3341-4466-9690-0a03af35228e',
  topic:
    '/subscriptions/aaaa0a0a-bb1b-cc2c-dd3d-eeeeee4e4e4e/resourcegroups/acse2e/providers/microsoft.communication/communicationservices/{communication-services-resource-name}',
  subject: '/phonenumber/15555555555',
  data: {
    messageId: 'Incoming_20200918002745d29ebbea-3341-4466-9690-0a03af35228e',
    from: '15555555555',
    to: '15555555555',
    message: 'Great to connect with Azure Communication Services events',
    receivedTimestamp: '2020-09-18T00:27:45.32Z',
    segmentCount: 1,
  },
  eventType: 'Microsoft.Communication.SMSReceived',
  dataVersion: '1.0',
  metadataVersion: '1',
  eventTime: '2020-09-18T00:27:47Z',
};
