#!/usr/bin/env bash
# Build Prometheus' promtool (cmd/promtool of a pinned release, its sources from the Go module proxy)
# into .tools/bin at the repository's top, for the tests that run `promtool check rules` and
# `promtool test rules` on deploy/kubernetes/base/prometheusrule.yaml. Idempotent: a stamp naming the
# release skips the build when that binary is already there. Needs a Go toolchain (go on PATH, or
# /usr/local/go/bin/go, or $GO).
set -euo pipefail
top="$(cd "$(dirname "$0")/../.." && pwd)"
version="v0.316.0"
bin="$top/.tools/bin"
stamp="$bin/.promtool-$version"
if [[ -f "$stamp" && -x "$bin/promtool" ]]; then
    exit 0
fi
go="${GO:-$(command -v go || echo /usr/local/go/bin/go)}"
if [[ ! -x "$go" ]]; then
    echo "fetch_promtool.sh: no Go toolchain (looked for go on PATH and /usr/local/go/bin/go; set GO=...)" >&2
    exit 1
fi
rm -f "$bin"/.promtool-*
# a static binary: no C toolchain involved, and a little less to build
CGO_ENABLED=0 GOBIN="$bin" "$go" install "github.com/prometheus/prometheus/cmd/promtool@$version"
"$bin/promtool" --version >/dev/null
touch "$stamp"
