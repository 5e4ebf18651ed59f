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
# shellcheck source=../cache.sh
source "$here/../cache.sh"
pom="$here/pom.xml"

pom_version="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$pom" | head -n1)"
version="${POLKU_KAFKA_VERSION:-$pom_version}"
if [[ -z "$version" ]]; then
  echo "fetch-jars: could not read <kafka.version> from $pom" >&2
  exit 1
fi

cache_open kafka "$version"
echo "fetch-jars: copying kafka_2.13 $version runtime jars into $cache_dest ..." >&2
mvn -B -q org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies \
  -DoutputDirectory="$cache_tmp" -DincludeScope=runtime \
  -Dkafka.version="$version" \
  -Dstyle.color=never -f "$pom" >&2

if ! compgen -G "$cache_tmp/kafka_2.13-$version.jar" >/dev/null; then
  echo "fetch-jars: kafka_2.13-$version.jar missing after copy" >&2
  exit 1
fi
cache_close "$cache_tmp" "kafka_2.13 $version" fetch-jars
