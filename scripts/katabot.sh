#!/usr/bin/env bash
# Sets up what katabot needs on a Debian machine, then runs an npm script with Node 24:
#   scripts/katabot.sh start    # install, then start the bot
#   scripts/katabot.sh test     # install, then run the whole test suite
# Installs, only when missing: Node 24 (from the npm registry, into ~/.cache/katabot-node),
# redis-server, bpftrace, chromium, qemu-system-x86, linux-image-amd64 and busybox-static (Debian packages; chromium
# runs the dashboard's browser tests, QEMU boots Debian's kernel for the guest-kernel test), and
# node_modules (npm ci).
set -euo pipefail
cd "$(dirname "$0")/.."

NODE_PREFIX="${KATABOT_NODE_PREFIX:-$HOME/.cache/katabot-node}"
export PATH="$NODE_PREFIX/node_modules/.bin:$PATH"

log() { printf '[katabot setup] %s\n' "$*" >&2; }

node_ok() {
  command -v node >/dev/null 2>&1 &&
    node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>22||(a===22&&b>=19)?0:1)'
}

if ! node_ok; then
  log "installing Node 24 into $NODE_PREFIX"
  npm install --no-audit --no-fund --prefix "$NODE_PREFIX" node@24 >&2
  hash -r
fi
node_ok || { log "Node >= 22.19 is required and could not be installed"; exit 1; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi; }
missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v bpftrace >/dev/null 2>&1 || missing+=(bpftrace)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
# Podman pods for the real-trace policy test (test/integration/podman-policy.test.ts): runc (crun refuses hybrid
# cgroup hosts), netavark's iptables, aardvark-dns for names, busybox as the containers' servers and clients
command -v podman >/dev/null 2>&1 || missing+=(podman)
command -v runc >/dev/null 2>&1 || missing+=(runc)
command -v iptables >/dev/null 2>&1 || missing+=(iptables)
[ -x /usr/lib/podman/aardvark-dns ] || missing+=(aardvark-dns)
command -v busybox >/dev/null 2>&1 || missing+=(busybox-static)
# the guest-kernel test (test/integration/guest-vm.test.ts): QEMU, Debian's kernel with its modules, and a static
# busybox for the guest's initramfs
command -v qemu-system-x86_64 >/dev/null 2>&1 || missing+=(qemu-system-x86)
compgen -G '/boot/vmlinuz-*' >/dev/null || missing+=(linux-image-amd64)
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  if ! { as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null; }; then
    log "could not install ${missing[*]}; tests that need them will be skipped with the reason"
  fi
fi

stamp=node_modules/.package-lock.json
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
  log "installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund >&2
fi

script="${1:-test}"
shift || true
if [ "$script" = start ] && [ ! -f dist/web/manifest.json ]; then
  log "building the dashboard front end (npm run build:web)"
  npm run build:web >&2
fi
exec npm run "$script" -- "$@"
