#!/bin/sh
# Copies the control-plane build modules of hack/controlplane (all but
# Traefik's, which only the tests build) into internal/localcluster/controlplane,
# which weir embeds so that `weir dev cluster` builds outside a checkout.
# Every file is copied with .txt appended: go:embed takes no go.mod, and the
# modules' Go files are not packages of weir. TestEmbeddedSourcesMatchHack
# fails when the copy is out of date.
set -eu
cd "$(dirname "$0")/.."
dest=internal/localcluster/controlplane
rm -rf "$dest"
(cd hack/controlplane && find . -type f ! -path './traefik/*' | sort) | while read -r f; do
	mkdir -p "$dest/$(dirname "$f")"
	cp "hack/controlplane/$f" "$dest/$f.txt"
done
