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
repo_root="$(cd "$here/../.." && pwd)"
version="${POLKU_KEYCLOAK_VERSION:-$(cat "$here/VERSION")}"

cache_root="$repo_root/.cache/keycloak"
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
echo "fetch-keycloak: copying keycloak-quarkus-dist $version into $dest ..." >&2
# Fill a scratch folder and rename it, so an interrupted download never leaves a
# folder that looks usable.
tmp="$(mktemp -d "$cache_root/.tmp-$version.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
mvn -B -q org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy \
  -Dartifact="org.keycloak:keycloak-quarkus-dist:$version:zip" \
  -DoutputDirectory="$tmp" -Dstyle.color=never >&2
unzip -q "$tmp/keycloak-quarkus-dist-$version.zip" -d "$tmp"
rm "$tmp/keycloak-quarkus-dist-$version.zip"
if [[ ! -x "$tmp/keycloak-$version/bin/kc.sh" ]]; then
  echo "fetch-keycloak: keycloak-$version/bin/kc.sh missing after unpacking" >&2
  exit 1
fi

rm -rf "$dest"
mv "$tmp/keycloak-$version" "$dest"
rm -rf "$tmp"
trap - EXIT
end=$(date +%s.%N)
elapsed="$(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.1f", e - s }')"
printf 'keycloak %s\nfetched_seconds %s\n' "$version" "$elapsed" >"$marker"
echo "fetch-keycloak: done in ${elapsed}s ($(du -sh "$dest" | cut -f1))" >&2
echo "$dest"
