#!/usr/bin/env bash
# Debian tools the integration tests use: setpriv (util-linux) for `user`,
# ps (procps). Installed only when missing, and only where apt-get and root are.
set -euo pipefail
missing=()
command -v setpriv >/dev/null || missing+=(util-linux)
command -v ps >/dev/null || missing+=(procps)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null
else
  echo "tests need: ${missing[*]} (install them with your package manager)" >&2
  exit 1
fi
