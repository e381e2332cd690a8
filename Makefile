# weir: the two commands a new user needs are `make quickstart` and `make test`.

GO ?= go
BIN := bin/weir

.PHONY: all build image controlplane quickstart quickstart-promotion test vet bench bench-scale bench-scale-smoke bench-flux fuzz clean generate

all: build

build:
	$(GO) build -tags=kustomize_disable_go_plugin_support -o $(BIN) ./cmd/weir

# Builds weir's image for linux/amd64 and linux/arm64 from Go, without a
# container engine: an OCI image layout in bin/weir-image and its tarball
# bin/weir-image.tar, the same digest for the same commit.
image: build
	$(BIN) dev image build

# Builds etcd, kube-apiserver, kube-controller-manager, kube-scheduler,
# kubectl and kwok, and the real node's kubelet, kube-proxy, CoreDNS and Traefik, from
# Go modules into .cache/controlplane (minutes the first time, then cached
# by version and by a hash of the hack/controlplane files they are built from).
controlplane: build
	$(BIN) dev cluster build

# Runs the quick start, on a real node where the machine can run one
# (REAL_NODE=no keeps it on kwok's nodes; REAL_NODE=yes fails without one).
quickstart: controlplane
	hack/quickstart.sh

# The second quick start: an image pushed to a local registry (Debian's
# docker-registry) promoted dev -> staging -> prod by weir's commits alone.
quickstart-promotion: controlplane
	hack/quickstart-promotion.sh

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt: the files above are not formatted"; exit 1; }
	$(GO) vet ./...

test: controlplane vet
	$(GO) test -count=1 -timeout 45m ./...

bench: controlplane
	$(GO) test -run '^$$' -bench . -benchmem -timeout 90m ./...

# Runs test/scale's BenchmarkScale once: APPS Applications of 20 objects
# (10, 100 or 500, or a list: 100,500) synced by the real `weir controller`
# from one Git repository over http-backend; it prints create -> Ready,
# commit -> applied, API requests, ref listings and CPU per interval at rest
# over REST (rounded up to whole 1m intervals), heap and RSS, drift ->
# healed at rest and under load, webhook -> applied for 50 objects quiet
# and under load, and the mean time of each phase of a sync.
# WEIR=<binary> measures that binary; ARGS='--concurrency=16' passes more
# flags to weir controller; REST=0 and DRIFTS=0 leave out the measures at
# rest and of drift.
APPS ?= 100
REST ?= 1m
DRIFTS ?= 20
bench-scale: controlplane
	$(GO) test -count=1 -run '^$$' -bench BenchmarkScale -benchtime 1x -timeout 90m ./test/scale -apps=$(APPS) -rest=$(REST) -drifts=$(DRIFTS) $(if $(WEIR),-weir=$(abspath $(WEIR))) $(if $(ARGS),-args='$(ARGS)') $(if $(HEAPPROFILE),-heapprofile=$(abspath $(HEAPPROFILE)))

# Runs bench-scale's scenario with Flux in weir's place, for a side by side
# comparison: its source-controller and kustomize-controller (fluxVersion
# in test/scale/fluxbuild_test.go), built from their Go modules into
# .cache/flux the first time, as processes on the local control plane. It
# prints the same figures, but for the sync profile.
bench-flux: controlplane
	$(GO) test -count=1 -run '^$$' -bench BenchmarkScale -benchtime 1x -timeout 90m ./test/scale -controller=flux -apps=$(APPS) -rest=$(REST) -drifts=$(DRIFTS)

# Runs the harness of bench-scale at 3 Applications, to check that it works.
bench-scale-smoke: controlplane
	$(GO) test -count=1 -run TestScaleSmoke -timeout 10m ./test/scale -smoke

# Runs every fuzz target of the module (each func FuzzX in a _test.go file,
# found anew each time) for FUZZTIME each; FUZZ=<regexp> picks targets.
FUZZTIME ?= 30s
FUZZ ?= .
fuzz:
	GO=$(GO) FUZZTIME=$(FUZZTIME) FUZZ='$(FUZZ)' hack/fuzz.sh

clean:
	rm -rf bin

# Regenerates deepcopy functions and CRD manifests from api/, and the
# controller's RBAC roles from the +kubebuilder:rbac markers in internal/.
generate:
	$(GO) tool controller-gen object paths=./api/... crd paths=./api/... output:crd:dir=config/crd/bases
	$(GO) tool controller-gen rbac:roleName=weir-controller paths=./internal/... output:rbac:dir=config/rbac
	sh hack/embed-controlplane.sh
