#!/usr/bin/env bash
# The promotion quick start: a real local control plane, a real local
# registry (Debian's docker-registry), and an example repository of three
# stages; a new image pushed to the registry moves dev -> staging -> prod by
# weir's commits alone, each printed as it lands.
#
# WEIR names the weir binary (default bin/weir); WORK the directory for the
# cluster, the registry and the repository (default .cache/quickstart-promotion).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work=${WORK:-$root/.cache/quickstart-promotion}
rm -rf "$work"; mkdir -p "$work"

# The binaries are named in full where they run in the background, so that
# $! is their own pid and cleanup stops them, not a subshell around them.
weir_bin=${WEIR:-$root/bin/weir}
weir() { "$weir_bin" "$@"; }
kubectl() { "$(ls -d "$root"/.cache/controlplane/kubernetes-*/ | head -1)kubectl" "$@"; }
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
cleanup() {
  if [ -n "${controller:-}" ]; then kill "$controller" 2>/dev/null; wait "$controller" 2>/dev/null || true; fi
  if [ -n "${registry:-}" ]; then kill "$registry" 2>/dev/null; wait "$registry" 2>/dev/null || true; fi
  weir dev cluster down --dir "$work/cluster" >/dev/null 2>&1 || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

command -v docker-registry >/dev/null || { echo "docker-registry is not installed (apt-get install docker-registry)" >&2; exit 1; }
# wait_for CMD...: retry CMD until it succeeds (60s at most).
wait_for() { for _ in $(seq 300); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done; "$@"; }
image_of() { kubectl get deployment "web-$1" -o jsonpath='{.spec.template.spec.containers[0].image}'; }
images() { for st in dev staging prod; do printf '  web-%-8s runs %s\n' "$st" "$(image_of "$st")"; done; }
applied() { [ "$(kubectl get application "$1" -o jsonpath='{.status.lastAppliedRevision}')" = "main@sha1:$2" ]; }
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

say "A local Kubernetes control plane"
weir dev cluster up --dir "$work/cluster"
export KUBECONFIG=$work/cluster/kubeconfig
kubectl get nodes

say "A local registry (Debian's docker-registry)"
port=$(free_port)
registry_addr=127.0.0.1:$port
cat >"$work/registry.yml" <<YAML
version: 0.1
log: {level: error}
storage: {filesystem: {rootdirectory: $work/registry}}
http: {addr: $registry_addr}
YAML
docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
registry=$!
wait_for python3 -c "import urllib.request; urllib.request.urlopen('http://$registry_addr/v2/')"
echo "registry at $registry_addr"

say "The image: examples/demo built from Go, pushed as $registry_addr/shop/web:1.0.0"
weir dev image build --source "$root" --package ./examples/demo --name web --out "$work/image" --repository "$registry_addr/shop/web" --tag 1.0.0
push() { weir dev image push --layout "$work/image/web" --tag 1.0.0 --plain-http "$registry_addr/shop/web:$1"; }
push 1.0.0

say "An example Git repository: dev/, staging/ and prod/, each running web:1.0.0"
repo=$work/repo
mkdir -p "$repo"
cp -r examples/promotion/dev examples/promotion/staging examples/promotion/prod "$repo"
sed -i "s|REGISTRY|$registry_addr|" "$repo"/*/web.yaml
git -C "$repo" init -q -b main
git -C "$repo" config receive.denyCurrentBranch updateInstead # weir pushes its commits here
git -C "$repo" add -A
git -C "$repo" -c user.name="Quinn Quickstart" -c user.email=quinn@example.com commit -q -m "Add the web shop in three stages"
git -C "$repo" log --format='%h %an: %s'

say "weir: the CRDs, the controller, an Application per stage, the ImageUpdate and the Pipeline"
kubectl apply -f config/crd/bases/ >/dev/null
"$weir_bin" controller --metrics-bind-address=0 --health-probe-bind-address=0 --allow-file-sources --cache-dir "$work/sources" >"$work/controller.log" 2>&1 &
controller=$!
sed "s|REPO|$repo|" examples/promotion/applications.yaml | kubectl apply -f -
first=$(git -C "$repo" rev-parse HEAD)
for st in dev staging prod; do wait_for applied "web-$st" "$first"; done
sed "s|REGISTRY|$registry_addr|" examples/promotion/promotion.yaml | kubectl apply -f -
weir get apps
images

say "Push web:1.1.0 to the registry: weir commits it to dev, then staging, then prod"
push 1.1.0
start=$(date +%s)
seen=$first
for _ in $(seq 900); do
  head=$(git -C "$repo" rev-parse HEAD)
  if [ "$head" != "$seen" ]; then
    git -C "$repo" log --reverse --format='%h %an: %s' "$seen..$head" | while read -r line; do
      echo "  +$(($(date +%s) - start))s  $line"
    done
    seen=$head
  fi
  [ "$(image_of prod)" = "$registry_addr/shop/web:1.1.0" ] && break
  sleep 0.2
done
images
[ "$(image_of prod)" = "$registry_addr/shop/web:1.1.0" ] || { echo "prod does not run 1.1.0; the controller's log is $work/controller.log" >&2; exit 1; }

say "The commits, and where the change stands in the Pipeline"
git -C "$repo" log --format='%h %an: %s' -4
echo "The commit to prod changes the tag alone; the marker comment stays:"
git -C "$repo" show --format= HEAD | sed 's/^/  /'
kubectl get pipeline web -o jsonpath='{range .status.changes[*]}  {.stage}: {.phase} {.images} in {.commit}{"\n"}{end}'
