#!/usr/bin/env bash
# Fetch Apache Kafka's broker (kafka_2.13 and its runtime dependencies, by name from Maven Central)
# into .kafka/lib at the repository's top, for the tests marked `kafka`. Idempotent: a stamp naming
# the pom's digest skips the work when that set is already there.
set -euo pipefail
top="$(cd "$(dirname "$0")/../.." && pwd)"
pom="$top/tests/kafka/pom.xml"
lib="$top/.kafka/lib"
stamp="$lib/.fetched-$(sha256sum "$pom" | cut -c1-16)"
if [[ -f "$stamp" ]]; then
    exit 0
fi
rm -rf "$lib"
mvn -q -B -Dstyle.color=never -f "$pom" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$lib"
touch "$stamp"
