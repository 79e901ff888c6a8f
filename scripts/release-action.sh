#!/usr/bin/env bash
# Releases the katabot action: builds action/dist (npm run build:action) from the current commit and tags a commit
# that adds the bundles on top of it, so `uses: <owner>/katabot@<tag>` finds the JavaScript action.yml runs. The
# bundles are never committed on a branch (docs/github-action.md#building-and-releasing-the-action).
#   scripts/release-action.sh v0.1.0
set -euo pipefail
cd "$(dirname "$0")/.."
tag="${1:?usage: scripts/release-action.sh vX.Y.Z}"
[[ "$tag" =~ ^v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]] || { echo "release-action: $tag is not a version tag like v0.1.0" >&2; exit 2; }
git diff --quiet && git diff --cached --quiet || { echo "release-action: the work tree has uncommitted changes" >&2; exit 2; }
! git rev-parse -q --verify "refs/tags/$tag" >/dev/null || { echo "release-action: tag $tag exists" >&2; exit 2; }
export PATH="${KATABOT_NODE_PREFIX:-$HOME/.cache/katabot-node}/node_modules/.bin:$PATH"
src=$(git rev-parse HEAD)
npm run --silent build:action
# a commit of the source tree plus action/dist, on top of the source commit, without moving any branch
index=$(mktemp)
trap 'rm -f "$index"' EXIT
GIT_INDEX_FILE="$index" git read-tree "$src"
GIT_INDEX_FILE="$index" git add -f action/dist
tree=$(GIT_INDEX_FILE="$index" git write-tree)
commit=$(git commit-tree "$tree" -p "$src" -m "katabot action $tag (bundles of $src)")
git tag -a "$tag" "$commit" -m "katabot action $tag"
echo "tagged $tag: $commit (push it with: git push origin $tag)"
