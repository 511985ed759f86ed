// The function app's app settings, merged with the ones the site already has. A PUT of
// Microsoft.Web/sites/config 'appsettings' replaces the whole collection, so writing only the
// template's settings would wipe everything set by hand (webhook secret, keywords, prices...) on
// every `azd provision`. As Azure Verified Modules do (avm/res/web/site: the parent passes
// list('<site id>/config/appsettings').properties as currentAppSettings, and site/config unions it
// with the new properties), the current settings come in as a parameter and the template's settings
// are laid over them: infra wins for the settings it owns, every other setting survives.

@description('Name of the function app.')
param appName string

// @secure: the current settings may hold a secret set by hand (STATUS_WEBHOOK_SECRET, a Key Vault
// reference); a secure parameter is kept out of the deployment's recorded inputs.
@secure()
@description('The app settings the site has now (empty on its first deployment).')
param currentAppSettings object

@description('The settings this template owns; they replace the current value of the same name.')
param appSettings object

resource app 'Microsoft.Web/sites@2024-04-01' existing = {
  name: appName
}

resource settings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: app
  name: 'appsettings'
  properties: union(currentAppSettings, appSettings)
}

@description('Names of the settings this template owns (the rest are kept as they were).')
output managedSettingNames array = objectKeys(appSettings)
