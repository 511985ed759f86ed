// A new Azure Communication Services resource, used when no existing one is named. Phone numbers are
// not created here: they are bought (and, for toll-free and 10DLC, verified) on this resource after
// provisioning; see docs/deploy.md.

@description('Name of the Communication Services resource; it becomes part of its endpoint host name.')
param name string

@description('Where the resource keeps its data at rest, e.g. United States or Europe.')
param dataLocation string

@description('Tags for the resource (azd-env-name).')
param tags object

resource communicationService 'Microsoft.Communication/communicationServices@2023-04-01' = {
  name: name
  // Communication Services is a global resource; dataLocation decides where data rests.
  location: 'global'
  tags: tags
  properties: {
    dataLocation: dataLocation
  }
}

@description('Name of the resource.')
output name string = communicationService.name

@description('Resource id of the resource.')
output resourceId string = communicationService.id
