#!/usr/bin/env bash
# Owns the local cache of Kafka broker jars used by tests/support/kafka_broker.py.
#
# Copies org.apache.kafka:kafka_2.13 and its runtime dependencies (per infra/kafka/pom.xml)
# into <repo>/.cache/kafka/<version>/ and writes a marker file when the copy is complete.
# Idempotent: exits at once when the marker exists. Prints the jar directory on stdout;
# progress and timing go to stderr so callers can capture the path.
#
# Env: POLKU_KAFKA_VERSION overrides the version in the pom (e.g. to try 4.3.x).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "$here/../.." && pwd)"
pom="$here/pom.xml"

pom_version="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$pom" | head -n1)"
version="${POLKU_KAFKA_VERSION:-$pom_version}"
if [[ -z "$version" ]]; then
  echo "fetch-jars: could not read <kafka.version> from $pom" >&2
  exit 1
fi

cache_root="$repo_root/.cache/kafka"
dest="$cache_root/$version"
marker="$dest/.complete"

if [[ -f "$marker" ]]; then
  echo "$dest"
  exit 0
fi

mkdir -p "$cache_root"
# Two test sessions may start at once; serialise so neither sees a half-filled folder.
exec 9>"$cache_root/.lock-$version"
flock 9
if [[ -f "$marker" ]]; then
  echo "$dest"
  exit 0
fi

start=$(date +%s.%N)
echo "fetch-jars: copying kafka_2.13 $version runtime jars into $dest ..." >&2
# Fill a scratch folder and rename it, so an interrupted download never leaves a
# folder that looks usable.
tmp="$(mktemp -d "$cache_root/.tmp-$version.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
mvn -B -q org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies \
  -DoutputDirectory="$tmp" -DincludeScope=runtime \
  -Dkafka.version="$version" \
  -Dstyle.color=never -f "$pom" >&2

if ! compgen -G "$tmp/kafka_2.13-$version.jar" >/dev/null; then
  echo "fetch-jars: kafka_2.13-$version.jar missing after copy" >&2
  exit 1
fi

rm -rf "$dest"
mv "$tmp" "$dest"
trap - EXIT
end=$(date +%s.%N)
elapsed="$(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.1f", e - s }')"
printf 'kafka_2.13 %s\nfetched_seconds %s\n' "$version" "$elapsed" >"$marker"
echo "fetch-jars: done in ${elapsed}s ($(du -sh "$dest" | cut -f1))" >&2
echo "$dest"
