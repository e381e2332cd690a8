#!/usr/bin/env bash
# The quick start: a real local Kubernetes control plane, a Deployment that
# becomes Available on kwok nodes, and a rolling update.
set -euo pipefail
cd "$(dirname "$0")/.."

dir=.cache/quickstart/cluster
weir() { bin/weir "$@"; }
trap 'weir dev cluster down --dir "$dir" >/dev/null 2>&1 || true' EXIT

weir dev cluster up --dir "$dir"
export KUBECONFIG=$(weir dev cluster kubeconfig --dir "$dir")
kubectl() { "$(ls -d .cache/controlplane/kubernetes-*/ | head -1)kubectl" "$@"; }

kubectl get nodes -o wide
kubectl create deployment web --image=nginx:1.27 --replicas=3
kubectl rollout status deployment/web --timeout=60s
kubectl set image deployment/web nginx=nginx:1.28
kubectl rollout status deployment/web --timeout=60s
kubectl get deployment,pods -o wide
