#!/usr/bin/env bash
# Installs the supervisors `node bench/bench.mjs --peers` measures proclaunch
# against: supervisord, runit and s6 from Debian (apt-get, as root), PM2 from
# npm into bench/.peers/pm2 (pinned; never global). Idempotent: what is there
# already is left alone.
#
# Debian's maintainer scripts may try to start supervisord or runsvdir
# system-wide. We forbid that with a policy-rc.d that exits 101 for the
# length of the install (restoring whatever was there), then check with ps
# and end, by pid, any daemon that started anyway, so only the benchmark's
# own scratch supervisors ever run.
set -euo pipefail
cd "$(dirname "$0")/.."

PM2_VERSION=7.0.4
PM2_PREFIX=bench/.peers/pm2

missing=()
command -v supervisord >/dev/null || missing+=(supervisor)
command -v runsvdir >/dev/null || missing+=(runit)
command -v s6-svscan >/dev/null || missing+=(s6)

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "install-peers: need root and apt-get to install: ${missing[*]}" >&2
    exit 1
  fi
  before=$(ps -eo pid= | tr -d ' ' | sort -n)
  policy=/usr/sbin/policy-rc.d
  saved=""
  if [ -e "$policy" ]; then
    saved=$(mktemp)
    cp -p "$policy" "$saved"
  fi
  restore_policy() {
    if [ -n "$saved" ]; then mv -f "$saved" "$policy"; else rm -f "$policy"; fi
  }
  trap restore_policy EXIT
  printf '#!/bin/sh\n# install-peers.sh: no service starts during this install\nexit 101\n' >"$policy"
  chmod 755 "$policy"
  echo "install-peers: apt-get install ${missing[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  restore_policy
  trap - EXIT
  # Anything the packages started despite the policy: end it by pid.
  after=$(ps -eo pid=,comm= | awk '$2 ~ /^(supervisord|runsvdir|runsv|s6-svscan|s6-supervise)$/ {print $1}')
  for pid in $after; do
    if ! grep -qx "$pid" <<<"$before"; then
      echo "install-peers: ending $(ps -o comm= -p "$pid") (pid $pid) started by the package" >&2
      kill "$pid" 2>/dev/null || true
    fi
  done
fi

if [ ! -x "$PM2_PREFIX/node_modules/.bin/pm2" ] ||
  [ "$(node -p "require('./$PM2_PREFIX/node_modules/pm2/package.json').version" 2>/dev/null)" != "$PM2_VERSION" ]; then
  echo "install-peers: npm install pm2@$PM2_VERSION into $PM2_PREFIX" >&2
  mkdir -p "$PM2_PREFIX"
  npm install --prefix "$PM2_PREFIX" --no-save --no-audit --no-fund --loglevel=error "pm2@$PM2_VERSION" >/dev/null
fi

echo "install-peers: supervisord $(supervisord --version), runit $(dpkg-query -W -f='${Version}' runit), s6 $(dpkg-query -W -f='${Version}' s6), pm2 $PM2_VERSION" >&2
