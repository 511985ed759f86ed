// The one identity the function app runs as. User-assigned, so its principal exists before the app
// does and every role assignment can be made in the same deployment.

@description('Name of the user-assigned managed identity.')
param name string

@description('Region of the identity.')
param location string

@description('Tags for the identity (azd-env-name).')
param tags object

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: name
  location: location
  tags: tags
}

@description('Resource id of the identity.')
output id string = identity.id

@description('Name of the identity.')
output name string = identity.name

@description('Client id: what AZURE_CLIENT_ID and the __clientId settings select.')
output clientId string = identity.properties.clientId

@description('Object (principal) id: what role assignments grant to.')
output principalId string = identity.properties.principalId
