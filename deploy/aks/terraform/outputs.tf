output "resource_group" {
  value = azurerm_resource_group.main.name
}

output "cluster_name" {
  value = azurerm_kubernetes_cluster.main.name
}

output "katabot_identity_client_id" {
  description = "Goes into deploy/aks/kustomize/workload-identity.yaml."
  value       = azurerm_user_assigned_identity.katabot.client_id
}

output "redis_url" {
  description = "REDIS_URL for the katabot-redis Secret (TLS on 6380)."
  value       = "rediss://:${azurerm_redis_cache.main.primary_access_key}@${azurerm_redis_cache.main.hostname}:${azurerm_redis_cache.main.ssl_port}/0"
  sensitive   = true
}

output "artifacts_account" {
  value = azurerm_storage_account.artifacts.name
}

output "artifacts_account_key" {
  value     = azurerm_storage_account.artifacts.primary_access_key
  sensitive = true
}

output "artifacts_container" {
  description = "The bucket name in Prow's gcs_configuration: s3://<this>."
  value       = azurerm_storage_container.artifacts.name
}
