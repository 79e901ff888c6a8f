variable "subscription_id" {
  description = "Azure subscription to deploy into."
  type        = string
}

variable "location" {
  description = "Azure region. For the TDX pool pick one that offers DCesv5/ECesv5 (check `az vm list-skus --location <region> --size Standard_DC --output table`)."
  type        = string
  default     = "westeurope"
}

variable "name" {
  description = "Prefix of every resource name (lowercase letters and digits)."
  type        = string
  default     = "katabot"
  validation {
    condition     = can(regex("^[a-z][a-z0-9]{2,11}$", var.name))
    error_message = "name: 3-12 lowercase letters and digits, starting with a letter (it is part of the storage account name)."
  }
}

variable "kubernetes_version" {
  description = "AKS Kubernetes version; null takes AKS's default."
  type        = string
  default     = null
}

variable "aks_sku_tier" {
  description = "AKS control plane tier: Free, or Standard for the uptime SLA."
  type        = string
  default     = "Free"
}

variable "system_vm_size" {
  description = "System pool VM size: runs katabot, Prow's components and small jobs."
  type        = string
  default     = "Standard_D2as_v5"
}

variable "system_node_count" {
  description = "System pool nodes. 1 is the minimal setup; 2 or more keep katabot's two replicas on different nodes."
  type        = number
  default     = 1
}

variable "tdx_pool_enabled" {
  description = "Add a node pool of Intel TDX confidential VMs (DCesv5/ECesv5)."
  type        = bool
  default     = false
}

variable "tdx_vm_size" {
  description = "TDX confidential VM size (DCesv5: general purpose, ECesv5: memory optimised)."
  type        = string
  default     = "Standard_DC4es_v5"
}

variable "tdx_max_nodes" {
  description = "Upper bound of the TDX pool autoscaler (it scales to 0 when no job needs it)."
  type        = number
  default     = 2
}

variable "redis_sku" {
  description = "Azure Cache for Redis: Basic (single node, no SLA), Standard (replicated) or Premium (adds RDB/AOF persistence)."
  type        = string
  default     = "Basic"
}

variable "redis_family" {
  description = "C for Basic/Standard, P for Premium."
  type        = string
  default     = "C"
}

variable "redis_capacity" {
  description = "Cache size within the family: C0 = 250 MB, C1 = 1 GB, P1 = 6 GB."
  type        = number
  default     = 0
}

variable "artifact_retention_days" {
  description = "Delete job artifacts (logs, traces) older than this."
  type        = number
  default     = 90
}

variable "prow_namespace" {
  description = "Namespace of Prow's components, ProwJobs and katabot (deploy/aks/kustomize sets the same)."
  type        = string
  default     = "prow"
}

variable "tags" {
  description = "Tags on every resource."
  type        = map(string)
  default     = { app = "katabot" }
}
