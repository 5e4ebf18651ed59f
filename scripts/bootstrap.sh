#!/usr/bin/env bash
# Installs what Polku needs on a fresh machine, idempotently: a Python 3.11+ virtualenv with the
# package; for `test` also Java, Maven, PostgreSQL 15 and Chromium (from Debian when missing)
# and the Kafka broker jars (from Maven Central, cached in .cache/). Done steps are skipped.
#
#   scripts/bootstrap.sh run    # the product only
#   scripts/bootstrap.sh test   # the product, the test tools and the real infrastructure
set -euo pipefail

purpose="${1:-run}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

say() { printf 'bootstrap: %s\n' "$*" >&2; }

find_python() {
  for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
      "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
        command -v "$candidate"
        return
    fi
  done
  say "Python 3.11 or later is required"; exit 1
}

apt_install() {
  if ! command -v apt-get >/dev/null 2>&1; then
    say "missing $*, and no apt-get to install it with"; exit 1
  fi
  say "installing $* from Debian"
  if [[ ! -f /tmp/.polku-apt-updated ]]; then
    apt-get update -qq && touch /tmp/.polku-apt-updated
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# Python environment --------------------------------------------------------------------------
if [[ ! -x .venv/bin/python ]]; then
  say "creating .venv"
  "$(find_python)" -m venv .venv
fi
extra=""
[[ "$purpose" == "test" ]] && extra="[test]"
stamp=".venv/.polku-installed${extra}"
if [[ ! -f "$stamp" || pyproject.toml -nt "$stamp" ]]; then
  say "installing polku${extra} into .venv"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".${extra}"
  touch "$stamp"
fi

# The workspace's message catalogues (fi, sv) are kept as .po files; compile them here.
if ! compiled="$(.venv/bin/pybabel compile -d services/workspace/translations 2>&1)"; then
  printf '%s\n' "$compiled" >&2; say "compiling the message catalogues failed"; exit 1
fi

[[ "$purpose" == "test" ]] || exit 0

# Real infrastructure for the tests -----------------------------------------------------------
command -v java >/dev/null 2>&1 || apt_install openjdk-17-jre-headless
command -v mvn >/dev/null 2>&1 || apt_install maven
pg_bin=""
for dir in /usr/lib/postgresql/*/bin; do
  [[ -x "$dir/initdb" ]] && pg_bin="$dir"
done
if [[ -z "$pg_bin" ]] && ! command -v initdb >/dev/null 2>&1; then
  apt_install postgresql-15 || apt_install postgresql
fi

# The interactive API docs are a page: a test renders them in real headless Chromium.
command -v chromium >/dev/null 2>&1 || apt_install chromium

started=$(date +%s)
jars="$(infra/kafka/fetch-jars.sh)"
say "Kafka jars ready in $jars ($(( $(date +%s) - started ))s)"

# Keycloak (an OpenID Connect issuer for the sign-in tests) from Maven Central; needs Java 21+.
started=$(date +%s)
keycloak="$(infra/keycloak/fetch.sh)"
say "Keycloak ready in $keycloak ($(( $(date +%s) - started ))s)"
# Its first start (Quarkus build, schema, realm import) is done once here and kept in .cache/.
started=$(date +%s)
.venv/bin/python -m tests.support.keycloak_server >/dev/null
say "Keycloak primed ($(( $(date +%s) - started ))s)"
