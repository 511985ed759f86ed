// The pipeline's Azure Monitor workbook, linked to its Application Insights component: sends,
// delivery rate, failures by code, ACS latency, delivery-report lag, opt-outs, each sender number,
// the queue, and one message's trace by its id. Its content is infra/workbooks/sms-pipeline.workbook.json
// (the "Notebook/1.0" form the portal's Advanced Editor shows; Microsoft's ARM/Bicep form for it:
// learn.microsoft.com/azure/azure-monitor/visualize/workbooks-automate); its queries read only the
// names the app emits (test/infra/telemetryNames.test.ts).

@description('Resource id of the Application Insights component the workbook reads (its sourceId).')
param applicationInsightsId string

@description('Region of the workbook (that of the component).')
param location string

@description('Tags for the workbook (azd-env-name).')
param tags object

@description('Name shown in the portal\'s workbook gallery.')
param displayName string = 'SMS pipeline'

resource workbook 'Microsoft.Insights/workbooks@2023-06-01' = {
  // A workbook's name must be a GUID; this one is stable per component, so a provision updates it.
  name: guid(applicationInsightsId, 'sms-pipeline-workbook')
  location: location
  tags: tags
  kind: 'shared'
  properties: {
    displayName: displayName
    category: 'workbook'
    sourceId: applicationInsightsId
    serializedData: loadTextContent('../workbooks/sms-pipeline.workbook.json')
    version: 'Notebook/1.0'
  }
}

@description('Resource id of the workbook.')
output id string = workbook.id
