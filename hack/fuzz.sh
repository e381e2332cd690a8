#!/usr/bin/env bash
# Runs every fuzz target of the module, each for FUZZTIME (default 30s).
# Targets are found by their declarations (func FuzzX in a _test.go file),
# so a new one is run without being listed here. FUZZ, a regular
# expression, picks targets by name. A target that fails does not stop the
# others; the failing inputs are kept in the package's testdata/fuzz and
# listed at the end.
set -euo pipefail

GO=${GO:-go}
FUZZTIME=${FUZZTIME:-30s}
FUZZ=${FUZZ:-.}
cd "$(dirname "$0")/.."

# Lines of "<package dir> <target>", one per fuzz target.
targets() {
	find . -name '*_test.go' -not -path '*/testdata/*' -not -path './.cache/*' -not -path './bin/*' -print0 |
		xargs -0 grep -HEo '^func Fuzz[A-Za-z0-9_]*' |
		sed -E 's|^(.*)/[^/]*_test\.go:func (Fuzz[A-Za-z0-9_]*)$|\1 \2|' |
		grep -E " .*(${FUZZ})" | sort
}

failed=()
count=0
while read -r dir name; do
	count=$((count + 1))
	echo "=== ${dir#./} ${name} (${FUZZTIME})"
	# -short: a package's TestMain would otherwise start a local control
	# plane in every fuzzing worker; fuzz targets need none.
	if ! "$GO" test -short -run '^$' -fuzz "^${name}\$" -fuzztime "$FUZZTIME" "$dir"; then
		failed+=("${dir#./} ${name}")
	fi
done < <(targets)

if [ "$count" -eq 0 ]; then
	echo "fuzz: no target matches ${FUZZ}" >&2
	exit 1
fi
if [ "${#failed[@]}" -gt 0 ]; then
	echo "fuzz: ${#failed[@]} of ${count} targets failed:" >&2
	printf '  %s\n' "${failed[@]}" >&2
	exit 1
fi
echo "fuzz: every target (${count}) ran ${FUZZTIME} without a failure"
