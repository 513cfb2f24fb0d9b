#!/usr/bin/env bash
# Build the real OpenTelemetry Collector (otlp receiver + kafka exporter) from the Go module proxy
# into .otelcol/ at the repository's top, for tests/tools/collector_interop.py. Not part of CI: on
# 2 cores the build takes minutes (README, "Collector interop"). Idempotent: a stamp naming the
# builder config's digest skips the work when that binary is already there.
set -euo pipefail
top="$(cd "$(dirname "$0")/../.." && pwd)"
config="$top/tests/tools/otelcol-builder.yaml"
out="$top/.otelcol"
stamp="$out/.built-$(sha256sum "$config" | cut -c1-16)"
go="${GO:-$(command -v go || echo /usr/local/go/bin/go)}"
if [[ -f "$stamp" && -x "$out/otelcol/otelcol-correlator" ]]; then
    echo "$out/otelcol/otelcol-correlator"
    exit 0
fi
mkdir -p "$out"
GOBIN="$out/bin" "$go" install go.opentelemetry.io/collector/cmd/builder@v0.165.0
cp "$config" "$out/builder.yaml"
start=$(date +%s)
(cd "$out" && PATH="$(dirname "$go"):$PATH" nice -n 15 "$out/bin/builder" --config builder.yaml)
echo "{\"collector_build_seconds\": $(( $(date +%s) - start ))}" >&2
touch "$stamp"
echo "$out/otelcol/otelcol-correlator"
