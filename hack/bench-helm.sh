#!/usr/bin/env bash
# Times `helm template` of the chart BenchmarkRenderHelm200 renders
# (internal/render/testdata/helm/bench, 200 objects), to compare the Helm
# CLI with weir's in-process render:
#
#   go test -run '^$' -bench RenderHelm200 -benchmem ./internal/render/
#   hack/bench-helm.sh [RUNS]
#
# The CLI is built from the module proxy at the Helm version in go.mod, into
# a temporary GOBIN, unless HELM names a helm binary to use. Each run is a
# whole `helm template` process, as a tool that shells out to Helm pays it.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${1:-50}
chart=internal/render/testdata/helm/bench
version=$(go list -m -f '{{.Version}}' helm.sh/helm/v4)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [[ -z "${HELM:-}" ]]; then
  echo "building helm $version ..." >&2
  GOBIN=$tmp/bin go install "helm.sh/helm/v4/cmd/helm@$version"
  HELM=$tmp/bin/helm
fi
# Helm's own directories, empty: nothing from this machine's Helm setup.
export HELM_CACHE_HOME=$tmp/cache HELM_CONFIG_HOME=$tmp/config HELM_DATA_HOME=$tmp/data

objects=$("$HELM" template bench "$chart" --namespace shop | grep -c '^kind:')
echo "helm $("$HELM" version --short) renders $objects objects from $chart" >&2

"$HELM" template bench "$chart" --namespace shop >/dev/null # warm the page cache
start=$(date +%s%N)
for _ in $(seq "$runs"); do
  "$HELM" template bench "$chart" --namespace shop >/dev/null
done
end=$(date +%s%N)
echo "helm template: $runs runs, $(( (end - start) / runs / 1000 )) µs/run"
