#!/usr/bin/env bash
# Runs a job's command against a kind cluster whose apiserver writes an audit log, then puts the log and the
# cluster's /openapi/v2 where katabot reads them: $ARTIFACTS/katabot/ (docs/audit-logs.md).
#
#   katabot-kind-audit.sh COMMAND [ARGS...]   make the cluster, run COMMAND with its kubeconfig, collect, delete it
#   katabot-kind-audit.sh --collect           only collect, from a cluster made otherwise (kubeadm: set
#                                             KATABOT_AUDIT_DIR to the directory of --audit-log-path)
#
# Environment: ARTIFACTS (set by Prow's decoration), KATABOT_KIND_CLUSTER (default katabot), KATABOT_KIND_IMAGE
# (a kind node image; default kind's), KATABOT_AUDIT_DIR (collect the logs from this directory instead of the kind
# control-plane node). Needs kind, kubectl, docker and gzip. COMMAND's exit code is the script's.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${ARTIFACTS:?ARTIFACTS is not set: the job must be decorated (decorate: true)}/katabot"
cluster="${KATABOT_KIND_CLUSTER:-katabot}"

# The file names katabot looks for (src/behavior/report.ts AUDIT_ARTIFACT, src/behavior/openapi.ts SPEC_ARTIFACT).
spec_file="openapi-v2.json.gz"

collect() {
  mkdir -p "$out"
  # The spec first: it names the cluster's operations, its CRDs included.
  if kubectl get --raw /openapi/v2 | gzip -c > "$out/$spec_file.part"; then
    mv "$out/$spec_file.part" "$out/$spec_file"
  else
    rm -f "$out/$spec_file.part"
    echo "katabot-kind-audit: could not read /openapi/v2; katabot falls back to KATABOT_OPENAPI" >&2
  fi
  local from="${KATABOT_AUDIT_DIR:-}" tmp=""
  if [ -z "$from" ]; then
    tmp="$(mktemp -d)"
    docker cp "$cluster-control-plane:/var/log/kubernetes/." "$tmp/"
    from="$tmp"
  fi
  local found=0 f
  # the current log and the rotated ones (kube-apiserver-audit-<time>.log), each gzipped
  for f in "$from"/*audit*.log; do
    [ -e "$f" ] || continue
    gzip -c "$f" > "$out/$(basename "$f").gz"
    found=$((found + 1))
  done
  [ -n "$tmp" ] && rm -rf "$tmp"
  if [ "$found" -eq 0 ]; then
    echo "katabot-kind-audit: no audit log in $from" >&2
    return 1
  fi
  echo "katabot-kind-audit: $found audit log file(s) and the cluster's spec in $out" >&2
}

if [ "${1:-}" = "--collect" ]; then
  collect
  exit
fi
if [ "$#" -eq 0 ]; then
  echo "usage: katabot-kind-audit.sh COMMAND [ARGS...] | --collect" >&2
  exit 2
fi

config="$(mktemp)"
sed "s|/etc/katabot-audit/|$here/|g" "$here/kind-config.yaml" > "$config"
kind create cluster --name "$cluster" --config "$config" --wait 5m ${KATABOT_KIND_IMAGE:+--image "$KATABOT_KIND_IMAGE"}
finish() {
  collect || echo "katabot-kind-audit: the audit log was not collected" >&2
  kind delete cluster --name "$cluster" >/dev/null 2>&1 || true
  rm -f "$config"
}
trap finish EXIT
kubectl cluster-info >/dev/null
"$@"
