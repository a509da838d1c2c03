// The Glidepath worker on Azure Container Apps: the image (pinned by digest), a user-assigned managed identity
// holding the least-privilege custom role (glidepath-rollout-operator.json) on the Azure ML workspace, secrets
// read from Key Vault by that identity (never in the template or its parameters), logs to Log Analytics, and a
// scale rule on the Temporal task queue (KEDA's `temporal` scaler).
//
//   az deployment group create -g <rg> -f examples/azure/worker-container-app.bicep \
//     -p image=<registry>/glidepath@sha256:<digest> temporalAddress=<ns>.<acct>.tmprl.cloud:7233 \
//        temporalNamespace=<ns>.<acct> keyVaultName=<vault> mlWorkspaceName=<workspace> \
//        rolloutOperatorRoleId=<id of the custom role created from glidepath-rollout-operator.json>
//
// Key Vault secrets it expects (names are parameters): the Temporal API key, the Slack bot token and the webhook
// secret. NOT VALIDATED HERE: no Bicep compiler installs offline on the machines this was written on (it ships
// from NuGet, which they cannot reach), so this file has not been compiled or deployed; run `az bicep build` and
// a what-if deployment before trusting it. Temporal's KEDA scaler needs KEDA ≥ 2.17 in the environment (2.22 for
// API keys), which Container Apps may not offer yet: the CPU rule below scales the worker either way.

@description('Region of the Container Apps environment and its Log Analytics workspace.')
param location string = resourceGroup().location

@description('Name prefix of the resources this creates.')
param name string = 'glidepath'

@description('The worker image, pinned by digest: <registry>/glidepath@sha256:… (built from the repository\'s Dockerfile).')
param image string

@description('Temporal frontend, host:port.')
param temporalAddress string

@description('Temporal namespace.')
param temporalNamespace string

@description('The task queue the CLI starts rollouts on (GLIDEPATH_TASK_QUEUE).')
param taskQueue string = 'glidepath'

@description('Key Vault (in this resource group) holding the worker\'s secrets.')
param keyVaultName string

@description('Key Vault secret names.')
param temporalApiKeySecret string = 'temporal-api-key'
param slackBotTokenSecret string = 'slack-bot-token'
param webhookSecretSecret string = 'glidepath-webhook-secret'

@description('GLIDEPATH_DECISION_SIGNERS: name:base64 public key,… (public keys: not a secret).')
param decisionSigners string = ''

@description('The Azure ML workspace (in this resource group) whose endpoints the worker rolls out to.')
param mlWorkspaceName string

@description('Id (GUID) of the custom role created from examples/azure/glidepath-rollout-operator.json.')
param rolloutOperatorRoleId string

@minValue(1)
param minReplicas int = 1
@maxValue(30)
param maxReplicas int = 4

// Built-in role: Key Vault Secrets User (read secret values).
var keyVaultSecretsUserRoleId = '4633458b-17de-408a-b874-0445c86b69e6'

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: '${name}-worker'
  location: location
}

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: keyVaultName
}

resource mlWorkspace 'Microsoft.MachineLearningServices/workspaces@2024-04-01' existing = {
  name: mlWorkspaceName
}

resource secretsReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, identity.id, keyVaultSecretsUserRoleId)
  scope: vault
  properties: {
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsUserRoleId)
  }
}

resource rolloutOperator 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(mlWorkspace.id, identity.id, rolloutOperatorRoleId)
  scope: mlWorkspace
  properties: {
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', rolloutOperatorRoleId)
  }
}

resource logs 'Microsoft.OperationalInsights/workspaces@2022-10-01' = {
  name: '${name}-logs'
  location: location
  properties: {
    sku: { name: 'PerGB2018' }
    retentionInDays: 30
  }
}

resource environment 'Microsoft.App/managedEnvironments@2024-03-01' = {
  name: '${name}-env'
  location: location
  properties: {
    appLogsConfiguration: {
      destination: 'log-analytics'
      logAnalyticsConfiguration: {
        customerId: logs.properties.customerId
        sharedKey: logs.listKeys().primarySharedKey
      }
    }
  }
}

resource worker 'Microsoft.App/containerApps@2024-03-01' = {
  name: '${name}-worker'
  location: location
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identity.id}': {} }
  }
  dependsOn: [secretsReader, rolloutOperator]
  properties: {
    managedEnvironmentId: environment.id
    configuration: {
      activeRevisionsMode: 'Single'
      // No ingress: the worker only dials out (Temporal, Azure Resource Manager, Azure Monitor, Slack).
      secrets: [
        { name: 'temporal-api-key', keyVaultUrl: '${vault.properties.vaultUri}secrets/${temporalApiKeySecret}', identity: identity.id }
        { name: 'slack-bot-token', keyVaultUrl: '${vault.properties.vaultUri}secrets/${slackBotTokenSecret}', identity: identity.id }
        { name: 'webhook-secret', keyVaultUrl: '${vault.properties.vaultUri}secrets/${webhookSecretSecret}', identity: identity.id }
      ]
    }
    template: {
      containers: [
        {
          name: 'worker'
          image: image
          args: ['worker']
          resources: { cpu: json('1.0'), memory: '2Gi' }
          env: [
            { name: 'GLIDEPATH_CLOUD', value: 'azure' }
            { name: 'AZURE_CLIENT_ID', value: identity.properties.clientId } // DefaultAzureCredential picks this identity
            { name: 'TEMPORAL_ADDRESS', value: temporalAddress }
            { name: 'TEMPORAL_NAMESPACE', value: temporalNamespace }
            { name: 'TEMPORAL_API_KEY', secretRef: 'temporal-api-key' }
            { name: 'GLIDEPATH_TASK_QUEUE', value: taskQueue }
            { name: 'GLIDEPATH_METRICS_ADDRESS', value: '0.0.0.0:9464' }
            { name: 'GLIDEPATH_DECISION_SIGNERS', value: decisionSigners }
            { name: 'SLACK_BOT_TOKEN', secretRef: 'slack-bot-token' }
            { name: 'GLIDEPATH_WEBHOOK_SECRET', secretRef: 'webhook-secret' }
          ]
          probes: [
            {
              type: 'Liveness'
              httpGet: { path: '/metrics', port: 9464 }
              initialDelaySeconds: 30
              periodSeconds: 30
              failureThreshold: 3
            }
          ]
        }
      ]
      scale: {
        minReplicas: minReplicas
        maxReplicas: maxReplicas
        rules: [
          {
            name: 'temporal-task-queue'
            custom: {
              type: 'temporal'
              metadata: {
                endpoint: temporalAddress
                namespace: temporalNamespace
                taskQueue: taskQueue
                targetQueueSize: '5'
                enableTLS: 'true'
              }
              auth: [{ secretRef: 'temporal-api-key', triggerParameter: 'apiKey' }]
            }
          }
          {
            name: 'cpu'
            custom: {
              type: 'cpu'
              metadata: { type: 'Utilization', value: '70' }
            }
          }
        ]
      }
    }
  }
}

output workerIdentityPrincipalId string = identity.properties.principalId
output workerName string = worker.name
