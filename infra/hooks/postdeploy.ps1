# azd postdeploy hook (Windows): stage two of the deployment. Event Grid only accepts a subscription
# whose destination function exists, so the ACS event subscriptions are deployed here, after
# `azd deploy`, from infra/eventgrid-subscriptions.bicep with main.bicep's outputs as parameters.
# Idempotent: it runs after every deploy. Same steps as postdeploy.sh.
$ErrorActionPreference = 'Stop'

foreach ($name in 'AZURE_SUBSCRIPTION_ID', 'AZURE_RESOURCE_GROUP', 'AZURE_FUNCTION_APP_NAME', 'EVENTGRID_SYSTEM_TOPIC_NAME',
  'AZURE_STORAGE_ACCOUNT_NAME', 'EVENTGRID_DEADLETTER_CONTAINER') {
  if ([string]::IsNullOrEmpty([Environment]::GetEnvironmentVariable($name))) {
    Write-Error "postdeploy: $name is not set in the azd environment; run 'azd provision' first."
    exit 1
  }
}

if ([string]::IsNullOrEmpty($env:SMS_SENDERS)) {
  Write-Host 'postdeploy: SMS_SENDERS is not set, so the functions cannot start and Event Grid cannot be subscribed to them yet.'
  Write-Host "  Buy a number (docs/deploy.md), then: azd env set SMS_SENDERS '[{""number"":""+18005550100"",""type"":""tollFree""}]'; azd up"
  exit 0
}

if (-not (Get-Command az -ErrorAction SilentlyContinue)) {
  Write-Error 'postdeploy: the Azure CLI (az) is required for the Event Grid subscriptions; see docs/deploy.md.'
  exit 1
}
az account show --subscription $env:AZURE_SUBSCRIPTION_ID --output none 2>$null
if ($LASTEXITCODE -ne 0) {
  Write-Error "postdeploy: sign the Azure CLI in to subscription $($env:AZURE_SUBSCRIPTION_ID) ('az login'), then run 'azd hooks run postdeploy'."
  exit 1
}

# A fresh Flex Consumption deployment takes a little while to index its functions.
foreach ($fn in 'deliveryReports', 'inboundSms') {
  $tries = 0
  while ($true) {
    az functionapp function show --subscription $env:AZURE_SUBSCRIPTION_ID --resource-group $env:AZURE_RESOURCE_GROUP `
      --name $env:AZURE_FUNCTION_APP_NAME --function-name $fn --output none 2>$null
    if ($LASTEXITCODE -eq 0) { break }
    $tries++
    if ($tries -ge 20) {
      Write-Error ("postdeploy: function $fn is not listed on $($env:AZURE_FUNCTION_APP_NAME) after 5 minutes. " +
        "Check the app's start-up log in Application Insights, fix the setting it names, then run 'azd hooks run postdeploy'.")
      exit 1
    }
    Write-Host "postdeploy: waiting for $fn to be indexed ($tries/20)..."
    Start-Sleep -Seconds 15
  }
}

Write-Host 'postdeploy: subscribing deliveryReports and inboundSms to the ACS events...'
az deployment group create `
  --subscription $env:AZURE_SUBSCRIPTION_ID `
  --resource-group $env:AZURE_RESOURCE_GROUP `
  --name 'eventgrid-subscriptions' `
  --template-file 'infra/eventgrid-subscriptions.bicep' `
  --parameters `
    "systemTopicName=$($env:EVENTGRID_SYSTEM_TOPIC_NAME)" `
    "functionAppName=$($env:AZURE_FUNCTION_APP_NAME)" `
    "deadLetterStorageAccountName=$($env:AZURE_STORAGE_ACCOUNT_NAME)" `
    "deadLetterContainerName=$($env:EVENTGRID_DEADLETTER_CONTAINER)" `
  --output none
if ($LASTEXITCODE -ne 0) {
  Write-Error 'postdeploy: the Event Grid subscription deployment failed (see above).'
  exit 1
}
Write-Host 'postdeploy: Event Grid subscriptions are in place.'
