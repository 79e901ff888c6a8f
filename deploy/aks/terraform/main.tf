# Azure infrastructure for katabot (and the Prow it drives): AKS, an optional TDX confidential node pool, Azure
# Cache for Redis, a storage account for job artifacts and a user-assigned identity federated with katabot's
# ServiceAccount. The Kubernetes objects are applied afterwards with kustomize (../README.md).

resource "random_string" "suffix" {
  length  = 6
  special = false
  upper   = false
}

locals {
  suffix = random_string.suffix.result
}

resource "azurerm_resource_group" "main" {
  name     = "${var.name}-rg"
  location = var.location
  tags     = var.tags
}

# --- AKS -------------------------------------------------------------------------------------------------------

resource "azurerm_kubernetes_cluster" "main" {
  name                = "${var.name}-aks"
  location            = azurerm_resource_group.main.location
  resource_group_name = azurerm_resource_group.main.name
  dns_prefix          = var.name
  kubernetes_version  = var.kubernetes_version
  sku_tier            = var.aks_sku_tier

  # Workload identity: pods exchange their ServiceAccount token for an Azure AD token.
  oidc_issuer_enabled       = true
  workload_identity_enabled = true

  default_node_pool {
    name                        = "system"
    vm_size                     = var.system_vm_size
    node_count                  = var.system_node_count
    os_disk_type                = "Managed"
    os_disk_size_gb             = 64
    temporary_name_for_rotation = "systemtmp"
    upgrade_settings {
      max_surge = "10%"
    }
  }

  identity {
    type = "SystemAssigned"
  }

  # Application routing (managed NGINX ingress): Prow's hook and Deck, and the GitHub App's webhook to katabot.
  web_app_routing {
    dns_zone_ids = []
  }

  network_profile {
    network_plugin      = "azure"
    network_plugin_mode = "overlay"
    network_data_plane  = "cilium"
    network_policy      = "cilium" # enforces deploy/prow's NetworkPolicies
  }

  tags = var.tags
}

# Intel TDX confidential VMs. Each node is itself a trust domain: jobs that must run inside a TD (attestation,
# guest components) run here with runc. Azure offers no nested virtualization on confidential VMs, so Kata's
# hypervisors (kata-qemu-tdx included) cannot run on these nodes: TDX Kata jobs need bare-metal TDX hosts.
resource "azurerm_kubernetes_cluster_node_pool" "tdx" {
  count                 = var.tdx_pool_enabled ? 1 : 0
  name                  = "tdx"
  kubernetes_cluster_id = azurerm_kubernetes_cluster.main.id
  vm_size               = var.tdx_vm_size
  os_disk_type          = "Managed"
  auto_scaling_enabled  = true
  min_count             = 0
  max_count             = var.tdx_max_nodes
  node_labels           = { "katabot.dev/tdx" = "true" }
  node_taints           = ["katabot.dev/tdx=true:NoSchedule"]
  tags                  = var.tags
}

# --- Redis -------------------------------------------------------------------------------------------------------

resource "azurerm_redis_cache" "main" {
  name                 = "${var.name}-${local.suffix}"
  location             = azurerm_resource_group.main.location
  resource_group_name  = azurerm_resource_group.main.name
  sku_name             = var.redis_sku
  family               = var.redis_family
  capacity             = var.redis_capacity
  non_ssl_port_enabled = false
  minimum_tls_version  = "1.2"

  redis_configuration {
    # BullMQ (katabot's queue) must keep every key.
    maxmemory_policy = "noeviction"
  }

  tags = var.tags
}

# --- Artifact storage ------------------------------------------------------------------------------------------

resource "azurerm_storage_account" "artifacts" {
  name                            = "${var.name}art${local.suffix}"
  location                        = azurerm_resource_group.main.location
  resource_group_name             = azurerm_resource_group.main.name
  account_kind                    = "StorageV2"
  account_tier                    = "Standard"
  account_replication_type        = "LRS"
  access_tier                     = "Hot"
  min_tls_version                 = "TLS1_2"
  allow_nested_items_to_be_public = false
  # The S3 gateway (deploy/aks/kustomize/artifacts-gateway.yaml) authenticates with the account key.
  shared_access_key_enabled = true
  tags                      = var.tags
}

resource "azurerm_storage_container" "artifacts" {
  name                  = "prow-artifacts"
  storage_account_id    = azurerm_storage_account.artifacts.id
  container_access_type = "private"
}

resource "azurerm_storage_management_policy" "artifacts" {
  storage_account_id = azurerm_storage_account.artifacts.id
  rule {
    name    = "expire-artifacts"
    enabled = true
    filters {
      blob_types   = ["blockBlob"]
      prefix_match = ["${azurerm_storage_container.artifacts.name}/"]
    }
    actions {
      base_blob {
        delete_after_days_since_modification_greater_than = var.artifact_retention_days
      }
    }
  }
}

# --- Workload identity ----------------------------------------------------------------------------------------

resource "azurerm_user_assigned_identity" "katabot" {
  name                = "${var.name}-katabot"
  location            = azurerm_resource_group.main.location
  resource_group_name = azurerm_resource_group.main.name
  tags                = var.tags
}

resource "azurerm_federated_identity_credential" "katabot" {
  name                = "katabot"
  resource_group_name = azurerm_resource_group.main.name
  parent_id           = azurerm_user_assigned_identity.katabot.id
  audience            = ["api://AzureADTokenExchange"]
  issuer              = azurerm_kubernetes_cluster.main.oidc_issuer_url
  subject             = "system:serviceaccount:${var.prow_namespace}:katabot"
}

# Read access to the artifacts with Azure AD instead of keys.
resource "azurerm_role_assignment" "katabot_artifacts" {
  scope                = azurerm_storage_account.artifacts.id
  role_definition_name = "Storage Blob Data Reader"
  principal_id         = azurerm_user_assigned_identity.katabot.principal_id
}
