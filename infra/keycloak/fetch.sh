#!/usr/bin/env bash
# Owns the local cache of the Keycloak server used by tests/support/keycloak_server.py.
#
# Copies org.keycloak:keycloak-quarkus-dist:<version>:zip from Maven Central and unpacks it into
# <repo>/.cache/keycloak/<version>/, writing a marker file when the copy is complete.
# Idempotent: exits at once when the marker exists. Prints the Keycloak home on stdout;
# progress and timing go to stderr so callers can capture the path.
#
# Env: POLKU_KEYCLOAK_VERSION overrides the default version (e.g. to try 26.5.x).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../cache.sh
source "$here/../cache.sh"
version="${POLKU_KEYCLOAK_VERSION:-$(cat "$here/VERSION")}"

cache_open keycloak "$version"
echo "fetch-keycloak: copying keycloak-quarkus-dist $version into $cache_dest ..." >&2
mvn -B -q org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy \
  -Dartifact="org.keycloak:keycloak-quarkus-dist:$version:zip" \
  -DoutputDirectory="$cache_tmp" -Dstyle.color=never >&2
unzip -q "$cache_tmp/keycloak-quarkus-dist-$version.zip" -d "$cache_tmp"
rm "$cache_tmp/keycloak-quarkus-dist-$version.zip"
if [[ ! -x "$cache_tmp/keycloak-$version/bin/kc.sh" ]]; then
  echo "fetch-keycloak: keycloak-$version/bin/kc.sh missing after unpacking" >&2
  exit 1
fi
cache_close "$cache_tmp/keycloak-$version" "keycloak $version" fetch-keycloak
