#!/usr/bin/env bash
# The quick start: a real local control plane, an example Git repository,
# and weir keeping the cluster matching it through a commit and a revert,
# then releasing a good change to web step by step and rolling a bad one
# back, with its revert commit in the repository.
#
# Where the machine can run a real node (root, Debian's containerd and the
# rest; see `weir dev cluster can-run-node`) and Prometheus, web is the demo
# workload in real pods behind a Gateway that Traefik serves, releases are
# judged by Prometheus on the requests the pods served, and the share of
# requests each version answered is measured at every step. Elsewhere, or
# with REAL_NODE=no, web's pods are kwok's and releases are judged on a
# health endpoint.
#
# WEIR (default bin/weir) is the weir binary; QUICKSTART_DIR (default
# .cache/quickstart) is where the cluster, the repository and the logs go.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work=${QUICKSTART_DIR:-$root/.cache/quickstart}
rm -rf "$work"; mkdir -p "$work"

# The binary is named in full where it runs in the background, so that $!
# is its own pid and cleanup stops it, not a subshell around it.
weir_bin=${WEIR:-$root/bin/weir}
weir() { "$weir_bin" "$@"; }
kubectl() { "$(ls -d "$root"/.cache/controlplane/kubernetes-*/ | head -1)kubectl" "$@"; }
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
# background CMD...: run CMD in the background, without the real node's
# turn (fd 9), and remember its pid for cleanup.
background_pids=()
background() { "$@" 9>&- & background_pids+=($!); }
cleanup() {
  for pid in "${background_pids[@]}"; do kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true; done
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
    if "$@" >/dev/null 2>&1; then
      # Where it got to, if it moved since it was printed.
      now=$(rollout_progress)
      if [ "$now" != "$last" ]; then echo "  $now"; fi
      return 0
    fi
    sleep 0.2
  done
  "$@"
}

# With a real node: the demo's version, the Rollout paused at a weight,
# and the share of requests each version answers through the Gateway.
version_is() { [ "$(kubectl get deployment web -o jsonpath='{.spec.template.spec.containers[0].env[0].value}')" = "$1" ]; }
paused_at() { [ "$(kubectl get rollout web -o jsonpath='{.status.phase}/{.status.canaryWeight}')" = "Paused/$1" ]; }
split() { python3 hack/quickstart-traffic.py count "$gateway" 1000; }
# canary_scraped: Prometheus has scraped the canary's pods long enough to
# tell their request rate, which the analysis divides by.
canary_scraped() { python3 hack/quickstart-traffic.py scraped "http://$prometheus_addr"; }
fetch() { python3 -c 'import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1]).read().decode(), end="")' "$1"; }
free_port() { python3 -c 'import socket, sys; s = socket.socket(); s.bind((sys.argv[1], 0)); print(s.getsockname()[1])' "$1"; }

# The story runs on a real node where it can.
real_node=no
case "${REAL_NODE:-auto}" in
  no) why="REAL_NODE=no" ;;
  auto | yes)
    if ! why=$(weir dev cluster can-run-node 2>&1); then
      why=${why#Error: }
    elif ! command -v prometheus >/dev/null; then
      why="Prometheus is missing (apt-get install prometheus)"
    else
      real_node=yes
    fi
    if [ "$real_node" = no ] && [ "${REAL_NODE:-auto}" = yes ]; then echo "REAL_NODE=yes: $why" >&2; exit 1; fi
    ;;
  *) echo "REAL_NODE=${REAL_NODE}: want auto, yes or no" >&2; exit 2 ;;
esac

if [ "$real_node" = yes ]; then
  say "A local Kubernetes control plane with a real node"
  # The machine's one real node, in turn with weir's tests (see
  # internal/testenv): the turn is this shell's until it exits.
  exec 9>"${TMPDIR:-/tmp}/weir-real-node-turn.lock"
  if ! flock -n 9; then
    echo "Waiting for the real node: another process (weir's tests, or another quick start) runs one..."
    waited=$SECONDS
    flock 9
    waited=$((SECONDS - waited))
  fi
  weir dev cluster up --real-node --dir "$work/cluster" 9>&-
else
  say "A local Kubernetes control plane, without a real node"
  echo "No real node ($why): web's pods are kwok's, which serve no requests,"
  echo "and releases are judged on a health endpoint rather than on real traffic."
  weir dev cluster up --dir "$work/cluster"
fi
export KUBECONFIG=$work/cluster/kubeconfig
kubectl get nodes

if [ "$real_node" = yes ]; then
  say "The demo workload's image in the node, a Gateway (Traefik), Prometheus scraping the pods"
  demo_tar=bin/demo-image.tar
  if [ ! -f "$demo_tar" ] || [ -n "$(find examples/demo go.mod go.sum -newer "$demo_tar" | head -1)" ]; then
    weir dev image build --package ./examples/demo --name demo-image --repository weir.local/demo --tag 1 --out bin
  fi
  weir dev image load --dir "$work/cluster" "$demo_tar"
  go mod download sigs.k8s.io/gateway-api
  gateway_crds=("$(go list -m -f '{{.Dir}}' sigs.k8s.io/gateway-api)"/config/crd/standard/gateway.networking.k8s.io_{gatewayclasses,gateways,httproutes,grpcroutes,referencegrants,backendtlspolicies}.yaml)
  kubectl apply --server-side "${gateway_crds[@]/#/--filename=}" >/dev/null
  kubectl wait --for=condition=Established --timeout=60s "${gateway_crds[@]/#/--filename=}" >/dev/null
  # Traefik runs on the host and listens on the node's address, where
  # the pods' network is.
  node_ip=10.244.255.1
  gateway_port=$(free_port "$node_ip")
  gateway=http://$node_ip:$gateway_port/
  traefik=$(weir dev cluster build | sed -n 's/^Traefik in //p')/traefik # built by make controlplane
  background "$traefik" \
    --entryPoints.web.address="$node_ip:$gateway_port" --providers.kubernetesgateway=true --log.level=ERROR >"$work/traefik.log" 2>&1
  kubectl apply -f - <<YAML
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: traefik}
spec: {controllerName: traefik.io/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: traefik, namespace: default}
spec:
  gatewayClassName: traefik
  listeners: [{name: web, protocol: HTTP, port: $gateway_port}]
YAML
  echo "The Gateway listens on $gateway"
  # Debian's Prometheus has no Kubernetes service discovery: the pods'
  # addresses are written to a file it re-reads, every second.
  mkdir -p "$work/prometheus"
  echo '[]' >"$work/prometheus/pods.json"
  cat >"$work/prometheus/prometheus.yml" <<YAML
global: {scrape_interval: 1s, evaluation_interval: 1s}
scrape_configs:
- job_name: pods
  scrape_timeout: 1s
  file_sd_configs: [{files: ["$work/prometheus/pods.json"], refresh_interval: 1s}]
YAML
  discover_pods() {
    while :; do
      kubectl get pods -o jsonpath='{range .items[?(@.status.phase=="Running")]}{.metadata.name} {.status.podIP}{"\n"}{end}' 2>/dev/null |
        awk 'BEGIN { printf "[" } NF == 2 { printf "%s{\"targets\":[\"%s:8080\"],\"labels\":{\"pod\":\"%s\"}}", n++ ? "," : "", $2, $1 } END { print "]" }' \
          >"$work/prometheus/pods.json.tmp" && mv "$work/prometheus/pods.json.tmp" "$work/prometheus/pods.json"
      sleep 1
    done
  }
  background discover_pods
  prometheus_addr=127.0.0.1:$(free_port 127.0.0.1)
  background prometheus --config.file="$work/prometheus/prometheus.yml" --storage.tsdb.path="$work/prometheus/data" \
    --web.listen-address="$prometheus_addr" --log.level=warn >"$work/prometheus.log" 2>&1
  wait_for fetch "http://$prometheus_addr/-/ready"
  echo "Prometheus: http://$prometheus_addr"
else
  say "A health endpoint the releases are judged on (python3's web server)"
  mkdir -p "$work/health"
  echo '{"successRate": 0.99}' >"$work/health/health.json"
  port=$(free_port 127.0.0.1)
  background python3 -m http.server --bind 127.0.0.1 --directory "$work/health" "$port" >"$work/health.log" 2>&1
  wait_for fetch "http://127.0.0.1:$port/health.json"
  fetch "http://127.0.0.1:$port/health.json"
fi

say "An example Git repository"
repo=$work/repo
if [ "$real_node" = yes ]; then
  cp -r examples/quickstart-gateway "$repo"; rm "$repo/README.md"
  sed -i "s|PROMETHEUS|$prometheus_addr|" "$repo/analysis.yaml"
else
  cp -r examples/quickstart "$repo"; rm "$repo/application.yaml" "$repo/README.md"
  sed -i "s|METRICS|127.0.0.1:$port|" "$repo/analysis.yaml"
fi
git -C "$repo" init -q -b main
git -C "$repo" config receive.denyCurrentBranch updateInstead # weir pushes its reverts here
git -C "$repo" add -A
git -C "$repo" -c user.name="Quinn Quickstart" -c user.email=quinn@example.com commit -q -m "Add the web shop"
git -C "$repo" log --oneline

say "weir: install the CRD, start the controller, create the Application"
kubectl apply -f config/crd/bases/ >/dev/null
background "$weir_bin" controller --metrics-bind-address=0 --health-probe-bind-address=0 --allow-file-sources --cache-dir "$work/sources" >"$work/controller.log" 2>&1
# The web UI, as you (this kubeconfig): watch the steps below happen there.
background "$weir_bin" ui --port "${WEIR_UI_PORT:-0}" >"$work/ui.log" 2>&1
wait_for grep -q "weir UI:" "$work/ui.log"
echo "Open the web UI: $(sed -n 's/^weir UI: //p' "$work/ui.log")"
sed "s|REPO|$repo|" examples/quickstart/application.yaml | kubectl apply -f -
wait_for revision_is "$(git -C "$repo" rev-parse HEAD)"
weir get apps
kubectl get deployments,services,configmaps
if [ "$real_node" = yes ]; then
  kubectl get httproutes
  wait_for fetch "$gateway"
  split
fi

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

if [ "$real_node" = yes ]; then
  say "A good release: web v2 gets 20% of the Gateway's requests, passes its error-rate analysis, then gets half"
  # Requests all along, for the analysis to judge (about 50 a second).
  background python3 hack/quickstart-traffic.py load "$gateway"
  sed -i 's/DEMO_VERSION, value: v1}/DEMO_VERSION, value: v2}/' "$repo/web.yaml"
  commit "web: v2"
  weir sync shop
  for weight in 20 50; do
    follow_rollout paused_at "$weight"
    sleep 2 # Traefik follows a change of the route's weights within a second or two
    split
    # The analysis comes after 20%: no data would pause the release.
    if [ "$weight" = 20 ]; then wait_for canary_scraped; fi
    weir rollout promote shop
  done
  follow_rollout version_is v2
  wait_for rollout_is Idle
  weir rollout status shop
  split

  say "A bad release: web v3 fails half its requests; Prometheus shows it, weir rolls back and reverts in Git"
  sed -i 's/DEMO_VERSION, value: v2}/DEMO_VERSION, value: v3}/; s/DEMO_ERROR_RATE, value: "0"}/DEMO_ERROR_RATE, value: "0.5"}/' "$repo/web.yaml"
  commit "web: v3"
  weir sync shop
  follow_rollout paused_at 20
  sleep 2
  split
  wait_for canary_scraped
  weir rollout promote shop
  follow_rollout reverted
  weir rollout status shop
  git -C "$repo" log --format='%h %an: %s' -4
  wait_for revision_is "$(git -C "$repo" rev-parse HEAD)"
  wait_for version_is v2
  split
  kubectl get deployments
else
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
fi

say "The audit trail"
weir history shop
echo
echo "The quick start took $((SECONDS - ${waited:-0})) seconds${waited:+, and waited $waited for the real node}."
