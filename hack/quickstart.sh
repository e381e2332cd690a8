#!/usr/bin/env bash
# The quick start: a real local control plane, an example Git repository,
# and weir keeping the cluster matching it through a commit and a revert,
# then releasing a good change to web step by step and rolling a bad one
# back, with its revert commit in the repository.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work=$root/.cache/quickstart
rm -rf "$work"; mkdir -p "$work"

# The binary is named in full where it runs in the background, so that $!
# is its own pid and cleanup stops it, not a subshell around it.
weir_bin=$root/bin/weir
weir() { "$weir_bin" "$@"; }
kubectl() { "$(ls -d "$root"/.cache/controlplane/kubernetes-*/ | head -1)kubectl" "$@"; }
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
cleanup() {
  if [ -n "${controller:-}" ]; then kill "$controller" 2>/dev/null; wait "$controller" 2>/dev/null || true; fi
  if [ -n "${ui:-}" ]; then kill "$ui" 2>/dev/null; wait "$ui" 2>/dev/null || true; fi
  if [ -n "${health:-}" ]; then kill "$health" 2>/dev/null; wait "$health" 2>/dev/null || true; fi
  weir dev cluster down --dir "$work/cluster" >/dev/null 2>&1 || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# wait_for CMD...: retry CMD until it succeeds (60s at most).
wait_for() { for _ in $(seq 300); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done; "$@"; }
revision_is() { [ "$(kubectl get application shop -o jsonpath='{.status.lastAppliedRevision}')" = "main@sha1:$1" ]; }
replicas_are() { [ "$(kubectl get deployment web -o jsonpath='{.spec.replicas}')" = "$1" ]; }
image_is() { [ "$(kubectl get deployment web -o jsonpath='{.spec.template.spec.containers[0].image}')" = "$1" ]; }
rollout_is() { [ "$(kubectl get rollout web -o jsonpath='{.status.phase}')" = "$1" ]; }
reverted() { [ -n "$(kubectl get rollout web -o jsonpath='{.status.failedRevisions[0].revertCommit}')" ]; }
commit() { git -C "$repo" -c user.name="Quinn Quickstart" -c user.email=quinn@example.com commit -q -am "$1"; }
# rollout_progress says where the Rollout is: its phase, then its step and
# weight once the first step is recorded, then its message.
rollout_progress() {
  local phase step weight message
  # "|" and not a tab: read merges runs of whitespace separators, and an
  # empty field would shift the next ones.
  IFS='|' read -r phase step weight message < <(kubectl get rollout web \
    -o jsonpath='{.status.phase}|{.status.currentStep}|{.status.canaryWeight}|{.status.message}{"\n"}')
  if [ -n "$step" ]; then
    echo "${phase:-Pending} at step $step, ${weight:-0}% on the canary: $message"
  else
    echo "${phase:-Pending}: $message"
  fi
}
# follow_rollout UNTIL...: print the Rollout's status each time its phase,
# step or weight moves, until UNTIL succeeds (two minutes at most).
follow_rollout() {
  local last="" now
  for _ in $(seq 600); do
    now=$(rollout_progress)
    if [ "$now" != "$last" ]; then echo "  $now"; last=$now; fi
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  "$@"
}

say "A local Kubernetes control plane"
weir dev cluster up --dir "$work/cluster"
export KUBECONFIG=$work/cluster/kubeconfig
kubectl get nodes

say "A health endpoint the releases are judged on (python3's web server)"
mkdir -p "$work/health"
echo '{"successRate": 0.99}' >"$work/health/health.json"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -m http.server --bind 127.0.0.1 --directory "$work/health" "$port" >"$work/health.log" 2>&1 &
health=$!
fetch() { python3 -c 'import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1]).read().decode(), end="")' "$1"; }
wait_for fetch "http://127.0.0.1:$port/health.json"
fetch "http://127.0.0.1:$port/health.json"

say "An example Git repository"
repo=$work/repo
cp -r examples/quickstart "$repo"; rm "$repo/application.yaml" "$repo/README.md"
sed -i "s|METRICS|127.0.0.1:$port|" "$repo/analysis.yaml"
git -C "$repo" init -q -b main
git -C "$repo" config receive.denyCurrentBranch updateInstead # weir pushes its reverts here
git -C "$repo" add -A
git -C "$repo" -c user.name="Quinn Quickstart" -c user.email=quinn@example.com commit -q -m "Add the web shop"
git -C "$repo" log --oneline

say "weir: install the CRD, start the controller, create the Application"
kubectl apply -f config/crd/bases/ >/dev/null
"$weir_bin" controller --metrics-bind-address=0 --health-probe-bind-address=0 --allow-file-sources --cache-dir "$work/sources" >"$work/controller.log" 2>&1 &
controller=$!
# The web UI, as you (this kubeconfig): watch the steps below happen there.
"$weir_bin" ui --port "${WEIR_UI_PORT:-0}" >"$work/ui.log" 2>&1 &
ui=$!
wait_for grep -q "weir UI:" "$work/ui.log"
echo "Open the web UI: $(sed -n 's/^weir UI: //p' "$work/ui.log")"
sed "s|REPO|$repo|" examples/quickstart/application.yaml | kubectl apply -f -
wait_for revision_is "$(git -C "$repo" rev-parse HEAD)"
weir get apps
kubectl get deployments,services,configmaps

say "Commit: scale web to 4 replicas"
sed -i 's/replicas: 2/replicas: 4/' "$repo/web.yaml"
commit "Scale web to 4"
weir sync shop
wait_for replicas_are 4
kubectl get deployment web

say "git revert: the cluster follows Git back"
git -C "$repo" -c user.name="Quinn Quickstart" -c user.email=quinn@example.com revert --no-edit HEAD >/dev/null
weir sync shop
wait_for replicas_are 2
kubectl get deployment web

say "A good release: web moves to nginx:1.27.1, a quarter, then half of its pods at a time"
sed -i 's/image: nginx:1.27$/image: nginx:1.27.1/' "$repo/web.yaml"
commit "web: nginx 1.27.1"
weir sync shop
follow_rollout image_is nginx:1.27.1
wait_for rollout_is Idle
weir rollout status shop

say "A bad release: the health endpoint reports 50% success; weir rolls back and reverts in Git"
echo '{"successRate": 0.5}' >"$work/health/health.json"
sed -i 's/image: nginx:1.27.1$/image: nginx:1.28/' "$repo/web.yaml"
commit "web: nginx 1.28"
weir sync shop
follow_rollout reverted
weir rollout status shop
git -C "$repo" log --format='%h %an: %s' -4
wait_for revision_is "$(git -C "$repo" rev-parse HEAD)"
wait_for image_is nginx:1.27.1
kubectl get deployments

say "The audit trail"
weir history shop
