// What the function identity may do on the Communication Services resource, deployed into the
// resource group that holds it (this environment's, or the one of an existing resource).
//
// Which role, and why a custom one:
// - ACS authorises Entra ID callers of the SMS API with Azure RBAC on the Communication Services
//   resource, but it publishes no data-plane actions and no built-in "sender" role. Its Entra ID
//   quickstart grants Contributor; the only ACS built-in role is "Communication and Email Service
//   Owner" (all of Microsoft.Communication/*). Both can also list and regenerate the access keys and
//   delete the resource, and this project forbids roles named Owner or Contributor.
// - ACS documents the narrowest working set for Entra-authenticated sending as a custom role
//   (its SMTP guide: Microsoft.Communication/CommunicationServices/Read and .../Write, plus
//   EmailServices/write which only e-mail needs). So we define "ACS SMS Sender" with exactly Read and
//   Write on CommunicationServices, assignable only in this resource group and assigned only on this
//   one resource. Compared with Contributor it cannot list or regenerate keys
//   (.../ListKeys/action, .../RegenerateKey/action), delete the resource, or touch anything else.
// - Creating a role definition needs Microsoft.Authorization/roleDefinitions/write (Owner or User
//   Access Administrator). Where that is held centrally, ask for the same role and pass its id in
//   ACS_SENDER_ROLE_DEFINITION_ID; docs/deploy.md also covers tenants where ACS refuses custom roles.

@description('Name of the Communication Services resource, in this resource group.')
param communicationServiceName string

@description('Principal id of the function app\'s managed identity.')
param principalId string

@description('Resource id of an existing role to assign instead of creating "ACS SMS Sender". Empty creates it.')
param senderRoleDefinitionId string = ''

@description('The environment\'s resource token; with this resource group it decides the custom role\'s id and name.')
param roleNameSuffix string

resource communicationService 'Microsoft.Communication/communicationServices@2023-04-01' existing = {
  name: communicationServiceName
}

var createSenderRole = empty(senderRoleDefinitionId)

// Role names are unique in the tenant, role ids in the subscription. Both come from the same inputs
// (this resource group and the resource token), so two environments that share a token but not a
// resource group (same name, subscription and region; AZURE_RESOURCE_GROUP set differently) get two
// roles instead of a RoleDefinitionWithSameNameExists failure, and re-running one is idempotent.
var senderRoleGuid = guid(resourceGroup().id, 'ACS SMS Sender', roleNameSuffix)
var senderRoleName = 'ACS SMS Sender (${take(senderRoleGuid, 8)}-${roleNameSuffix})'

resource acsSmsSenderRole 'Microsoft.Authorization/roleDefinitions@2022-04-01' = if (createSenderRole) {
  name: senderRoleGuid
  properties: {
    roleName: senderRoleName
    description: 'Send SMS through Azure Communication Services with Microsoft Entra ID. Read and write the Communication Services resource; no keys, no delete.'
    type: 'CustomRole'
    permissions: [
      {
        actions: [
          'Microsoft.Communication/CommunicationServices/Read'
          'Microsoft.Communication/CommunicationServices/Write'
        ]
        notActions: []
        dataActions: []
        notDataActions: []
      }
    ]
    assignableScopes: [
      resourceGroup().id
    ]
  }
}

// Role definitions are subscription-level objects; refer to the custom one by its subscription-scoped id.
var senderRoleId = createSenderRole
  ? subscriptionResourceId('Microsoft.Authorization/roleDefinitions', acsSmsSenderRole.name)
  : senderRoleDefinitionId

resource acsSmsSender 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(communicationService.id, principalId, senderRoleId)
  scope: communicationService
  properties: {
    roleDefinitionId: senderRoleId
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: 'sendSms calls the ACS SMS API with the function identity (ACS SMS Sender).'
  }
}

@description('Resource id of the Communication Services resource.')
output resourceId string = communicationService.id

@description('Endpoint for ACS_ENDPOINT, https://<host name of the resource>.')
output endpoint string = 'https://${communicationService.properties.hostName}'

@description('Resource id of the role assigned to the function identity.')
output senderRoleDefinitionId string = senderRoleId

@description('Name of the custom role created here, or empty when a role id was given.')
output senderRoleName string = createSenderRole ? senderRoleName : ''
