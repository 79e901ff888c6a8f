#!/usr/bin/env bash
# Traces what Kata runs in a cluster a job builds (docs/tracing-kata-and-runc.md "The traced job").
#
#   scripts/kata-trace.sh install           # after Kata is deployed, before the tests: webhook + node collectors
#   scripts/kata-trace.sh collect DIR       # after the tests, before cleanup: DIR/katabot/node-<node>.jsonl
#   scripts/kata-trace.sh uninstall         # removes what install created
#   scripts/kata-trace.sh render            # prints the manifests install applies (with a fresh certificate)
#
# install adds a mutating admission webhook (`katabot inject`) that gives every Kata pod in the traced namespaces a
# guest tracer, and a DaemonSet (`katabot collect`) that traces each node's host side and merges the guests'
# streams into one trace per node. collect ends those traces and copies them out. Neither ever fails the job
# because of tracing: problems are printed and the script exits 0, unless KATABOT_TRACE_STRICT=1.
#
# Environment:
#   KATABOT_IMAGE             the tracer image (katabot + bpftrace)   default ghcr.io/kata-containers/katabot-tracer:latest
#   KATABOT_TRACE_NAMESPACES  namespaces whose Kata pods are traced   default kata-containers-k8s-tests
#   KATABOT_COLLECTOR_PORT    the collectors' port on each node       default 7701
#   KATABOT_TRACE_TIMEOUT     seconds to wait for rollouts and traces default 300
#   KUBECTL                   kubectl command                         default kubectl
# Needs kubectl, openssl and base64.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
manifests="${KATABOT_TRACE_MANIFESTS:-$here/../deploy/kata-trace}"
image="${KATABOT_IMAGE:-ghcr.io/kata-containers/katabot-tracer:latest}"
namespaces="${KATABOT_TRACE_NAMESPACES:-kata-containers-k8s-tests}"
port="${KATABOT_COLLECTOR_PORT:-7701}"
timeout="${KATABOT_TRACE_TIMEOUT:-300}"
kubectl="${KUBECTL:-kubectl}"
ns=katabot

log() { printf '[katabot kata-trace] %s\n' "$*" >&2; }

# Tracing must never fail the job it traces.
give_up() {
  log "$*"
  if [ "${KATABOT_TRACE_STRICT:-0}" = 1 ]; then exit 1; fi
  exit 0
}

b64() { base64 | tr -d '\n'; }

# A CA and a serving certificate for katabot-inject.katabot.svc, valid two days (a CI job's cluster).
certificates() {
  local dir=$1 svc="katabot-inject.$ns.svc"
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=katabot-inject-ca" \
    -keyout "$dir/ca.key" -out "$dir/ca.crt" >/dev/null 2>&1 || return 1
  openssl req -newkey rsa:2048 -nodes -subj "/CN=$svc" -keyout "$dir/tls.key" -out "$dir/tls.csr" >/dev/null 2>&1 || return 1
  printf 'subjectAltName=DNS:%s,DNS:%s.cluster.local\nextendedKeyUsage=serverAuth\n' "$svc" "$svc" > "$dir/ext.cnf"
  openssl x509 -req -in "$dir/tls.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial -days 2 \
    -extfile "$dir/ext.cnf" -out "$dir/tls.crt" >/dev/null 2>&1 || return 1
}

# The manifests with their placeholders filled in.
render() {
  local dir
  dir="$(mktemp -d)" || return 1
  if ! certificates "$dir"; then rm -rf "$dir"; log "openssl could not make the webhook's certificate"; return 1; fi
  local list
  list="[$(printf '%s' "$namespaces" | tr ',' '\n' | sed '/^$/d; s/.*/"&"/' | paste -sd, -)]"
  local f first=1
  for f in namespace.yaml webhook.yaml collector.yaml; do
    [ "$first" = 1 ] || printf -- '---\n'
    first=0
    sed -e "s|\${KATABOT_IMAGE}|$image|g" \
        -e "s|\${KATABOT_TRACE_NAMESPACES}|$namespaces|g" \
        -e "s|\${KATABOT_TRACE_NAMESPACE_LIST}|$list|g" \
        -e "s|\${KATABOT_COLLECTOR_PORT}|$port|g" \
        -e "s|\${CA_BUNDLE}|$(b64 < "$dir/ca.crt")|g" \
        -e "s|\${TLS_CRT}|$(b64 < "$dir/tls.crt")|g" \
        -e "s|\${TLS_KEY}|$(b64 < "$dir/tls.key")|g" \
        "$manifests/$f"
  done
  rm -rf "$dir"
}

install() {
  local out
  out="$(render)" || give_up "cannot render the manifests: Kata pods run untraced"
  printf '%s\n' "$out" | $kubectl apply -f - >&2 || give_up "kubectl apply failed: Kata pods run untraced"
  $kubectl -n "$ns" rollout status deployment/katabot-inject --timeout="${timeout}s" >&2 \
    || log "the webhook is not ready: pods created meanwhile run untraced (failurePolicy: Ignore)"
  $kubectl -n "$ns" rollout status daemonset/katabot-collector --timeout="${timeout}s" >&2 \
    || log "not every node's collector is ready: their guests are reported as not traced"
  log "tracing Kata pods in: $namespaces"
}

collect() {
  local dest="${1:-}"
  [ -n "$dest" ] || give_up "usage: $0 collect DIR"
  mkdir -p "$dest/katabot" || give_up "cannot create $dest/katabot"
  local pods pod node n=0
  pods="$($kubectl -n "$ns" get pods -l app.kubernetes.io/name=katabot-collector \
    -o jsonpath='{range .items[*]}{.metadata.name}{" "}{.spec.nodeName}{"\n"}{end}')" \
    || give_up "cannot list the collectors"
  while read -r pod node; do
    [ -n "$pod" ] || continue
    # ends the node's trace (footer written) and keeps the collector idle until uninstall
    if ! $kubectl -n "$ns" exec "$pod" -- katabot collect --finish --port "$port" --timeout "$timeout" >&2; then
      log "$node: the collector did not finish its trace; copying what it wrote"
    fi
    if $kubectl -n "$ns" exec "$pod" -- cat /var/run/katabot/trace.jsonl > "$dest/katabot/node-$node.jsonl"; then
      n=$((n + 1))
    else
      log "$node: cannot copy the trace"
      rm -f "$dest/katabot/node-$node.jsonl"
    fi
  done <<< "$pods"
  log "copied $n node trace(s) to $dest/katabot"
}

uninstall() {
  # the webhook first: no pod is sent to a webhook that is going away
  $kubectl delete mutatingwebhookconfiguration katabot-guest-tracer --ignore-not-found >&2
  $kubectl delete clusterrolebinding katabot-collector --ignore-not-found >&2
  $kubectl delete clusterrole katabot-collector --ignore-not-found >&2
  $kubectl delete namespace "$ns" --ignore-not-found --wait=false >&2
}

case "${1:-}" in
  install) install ;;
  collect) collect "${2:-}" ;;
  uninstall) uninstall ;;
  render) render || exit 1 ;;
  *) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
