#!/bin/sh
# azd postdeploy hook: stage two of the deployment. Event Grid only accepts a subscription whose
# destination function exists, so the ACS event subscriptions are deployed here, after `azd deploy`,
# from infra/eventgrid-subscriptions.bicep with main.bicep's outputs as parameters. Idempotent: it
# runs after every deploy and leaves unchanged subscriptions as they are.
set -eu

for name in AZURE_SUBSCRIPTION_ID AZURE_RESOURCE_GROUP AZURE_FUNCTION_APP_NAME EVENTGRID_SYSTEM_TOPIC_NAME \
  AZURE_STORAGE_ACCOUNT_NAME EVENTGRID_DEADLETTER_CONTAINER; do
  eval "value=\${$name:-}"
  if [ -z "$value" ]; then
    echo "postdeploy: $name is not set in the azd environment; run 'azd provision' first." >&2
    exit 1
  fi
done

if [ -z "${SMS_SENDERS:-}" ]; then
  echo "postdeploy: SMS_SENDERS is not set, so the functions cannot start and Event Grid cannot be subscribed to them yet."
  echo "  Buy a number (docs/deploy.md), then: azd env set SMS_SENDERS '[{\"number\":\"+18005550100\",\"type\":\"tollFree\"}]' && azd up"
  exit 0
fi

if ! command -v az >/dev/null 2>&1; then
  echo "postdeploy: the Azure CLI (az) is required for the Event Grid subscriptions; see docs/deploy.md." >&2
  exit 1
fi
if ! az account show --subscription "$AZURE_SUBSCRIPTION_ID" >/dev/null 2>&1; then
  echo "postdeploy: sign the Azure CLI in to subscription $AZURE_SUBSCRIPTION_ID ('az login'), then run 'azd hooks run postdeploy'." >&2
  exit 1
fi

# A fresh Flex Consumption deployment takes a little while to index its functions.
for fn in deliveryReports inboundSms; do
  tries=0
  until az functionapp function show --subscription "$AZURE_SUBSCRIPTION_ID" --resource-group "$AZURE_RESOURCE_GROUP" \
    --name "$AZURE_FUNCTION_APP_NAME" --function-name "$fn" --output none >/dev/null 2>&1; do
    tries=$((tries + 1))
    if [ "$tries" -ge 20 ]; then
      echo "postdeploy: function $fn is not listed on $AZURE_FUNCTION_APP_NAME after 5 minutes." >&2
      echo "  Check the app's start-up log (Application Insights, or 'func azure functionapp logstream $AZURE_FUNCTION_APP_NAME')," >&2
      echo "  fix the setting it names, then run 'azd hooks run postdeploy'." >&2
      exit 1
    fi
    echo "postdeploy: waiting for $fn to be indexed ($tries/20)..."
    sleep 15
  done
done

echo "postdeploy: subscribing deliveryReports and inboundSms to the ACS events..."
az deployment group create \
  --subscription "$AZURE_SUBSCRIPTION_ID" \
  --resource-group "$AZURE_RESOURCE_GROUP" \
  --name "eventgrid-subscriptions" \
  --template-file "infra/eventgrid-subscriptions.bicep" \
  --parameters \
    systemTopicName="$EVENTGRID_SYSTEM_TOPIC_NAME" \
    functionAppName="$AZURE_FUNCTION_APP_NAME" \
    deadLetterStorageAccountName="$AZURE_STORAGE_ACCOUNT_NAME" \
    deadLetterContainerName="$EVENTGRID_DEADLETTER_CONTAINER" \
  --output none
echo "postdeploy: Event Grid subscriptions are in place."
