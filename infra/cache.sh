# Shared by infra/*/fetch*.sh: a versioned folder under <repo>/.cache/<name>/<version>/ that is
# either complete (a marker file) or absent. Source it, then:
#
#   cache_open NAME VERSION      # prints the folder and exits 0 if it is complete already;
#                                # else takes the lock, sets $cache_dest and $cache_tmp (a scratch
#                                # folder, removed on exit) and starts the clock
#   ... fill "$cache_tmp" ...
#   cache_close DIR LABEL        # moves DIR (inside $cache_tmp, or $cache_tmp itself) into place,
#                                # writes the marker and prints the folder
#
# Two test sessions may start at once: the lock serialises them so neither sees a half-filled
# folder, and filling a scratch folder that is renamed at the end means an interrupted download
# never leaves a folder that looks usable.

cache_open() {
  local name="$1" version="$2"
  local repo_root
  repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  cache_root="$repo_root/.cache/$name"
  cache_dest="$cache_root/$version"
  cache_marker="$cache_dest/.complete"
  if [[ -f "$cache_marker" ]]; then
    echo "$cache_dest"
    exit 0
  fi
  mkdir -p "$cache_root"
  exec 9>"$cache_root/.lock-$version"
  flock 9
  if [[ -f "$cache_marker" ]]; then
    echo "$cache_dest"
    exit 0
  fi
  cache_start=$(date +%s.%N)
  cache_tmp="$(mktemp -d "$cache_root/.tmp-$version.XXXXXX")"
  trap 'rm -rf "$cache_tmp"' EXIT
}

cache_close() {
  local filled="$1" label="$2" program="$3"
  rm -rf "$cache_dest"
  mv "$filled" "$cache_dest"
  rm -rf "$cache_tmp"
  trap - EXIT
  local end elapsed
  end=$(date +%s.%N)
  elapsed="$(awk -v s="$cache_start" -v e="$end" 'BEGIN { printf "%.1f", e - s }')"
  printf '%s\nfetched_seconds %s\n' "$label" "$elapsed" >"$cache_marker"
  echo "$program: done in ${elapsed}s ($(du -sh "$cache_dest" | cut -f1))" >&2
  echo "$cache_dest"
}
