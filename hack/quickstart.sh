#!/usr/bin/env bash
# The quick start: a real local control plane, an example Git repository,
# and weir keeping the cluster matching it through a commit and a revert.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work=$root/.cache/quickstart
rm -rf "$work"; mkdir -p "$work"

weir() { "$root/bin/weir" "$@"; }
kubectl() { "$(ls -d "$root"/.cache/controlplane/kubernetes-*/ | head -1)kubectl" "$@"; }
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
cleanup() {
  if [ -n "${controller:-}" ]; then kill "$controller" 2>/dev/null; wait "$controller" 2>/dev/null || true; fi
  weir dev cluster down --dir "$work/cluster" >/dev/null 2>&1 || true
}
trap cleanup EXIT

# wait_for CMD...: retry CMD until it succeeds (60s at most).
wait_for() { for _ in $(seq 300); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done; "$@"; }
revision_is() { [ "$(kubectl get application shop -o jsonpath='{.status.lastAppliedRevision}')" = "main@sha1:$1" ]; }
replicas_are() { [ "$(kubectl get deployment web -o jsonpath='{.spec.replicas}')" = "$1" ]; }

say "A local Kubernetes control plane"
weir dev cluster up --dir "$work/cluster"
export KUBECONFIG=$work/cluster/kubeconfig
kubectl get nodes

say "An example Git repository"
repo=$work/repo
cp -r examples/quickstart "$repo"; rm "$repo/application.yaml" "$repo/README.md"
git -C "$repo" init -q -b main
git -C "$repo" add -A
git -C "$repo" -c user.name="Quinn Quickstart" -c user.email=quinn@example.com commit -q -m "Add the web shop"
git -C "$repo" log --oneline

say "weir: install the CRD, start the controller, create the Application"
kubectl apply -f config/crd/bases/ >/dev/null
weir controller --metrics-bind-address=0 --health-probe-bind-address=0 --cache-dir "$work/sources" >"$work/controller.log" 2>&1 &
controller=$!
sed "s|REPO|$repo|" examples/quickstart/application.yaml | kubectl apply -f -
wait_for revision_is "$(git -C "$repo" rev-parse HEAD)"
weir get apps
kubectl get deployments,services,configmaps

say "Commit: scale web to 4 replicas"
sed -i 's/replicas: 2/replicas: 4/' "$repo/web.yaml"
git -C "$repo" -c user.name="Quinn Quickstart" -c user.email=quinn@example.com commit -q -am "Scale web to 4"
weir sync shop
wait_for replicas_are 4
kubectl get deployment web

say "git revert: the cluster follows Git back"
git -C "$repo" -c user.name="Quinn Quickstart" -c user.email=quinn@example.com revert --no-edit HEAD >/dev/null
weir sync shop
wait_for replicas_are 2
kubectl get deployment web

say "The audit trail"
weir history shop
