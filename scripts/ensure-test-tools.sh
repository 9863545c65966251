#!/usr/bin/env bash
# What the integration tests need from the machine: setpriv (util-linux) for
# `user`, ps (procps), useradd (passwd) for a throw-away service user,
# check_log (monitoring-plugins-basic) to prove the log Nagios-parseable, cc,
# make and python3 for the native module and the ENOSPC shim, and a usable
# inotify watch limit. Installed only when missing, and only as root with apt-get.
set -euo pipefail
missing=()
command -v setpriv >/dev/null || missing+=(util-linux)
command -v ps >/dev/null || missing+=(procps)
command -v useradd >/dev/null || missing+=(passwd)
# The webhook example hook (examples/hooks/webhook) POSTs with curl.
command -v curl >/dev/null || missing+=(curl)
[ -x /usr/lib/nagios/plugins/check_log ] || missing+=(monitoring-plugins-basic)
# The native module (pidfd, reaper) is built by `npm ci`; CI must test it, not its fallback.
command -v make >/dev/null || missing+=(make)
command -v cc >/dev/null || missing+=(gcc)
command -v python3 >/dev/null || missing+=(python3)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "tests need: ${missing[*]} (install them with your package manager)" >&2
    exit 1
  fi
fi
# The tests run four supervisors at once, each watching a small tree. A limit
# in the single digits (seen once on a CI machine) starves them all.
watches=$(cat /proc/sys/fs/inotify/max_user_watches 2>/dev/null || echo 0)
if [ "$watches" -lt 8192 ]; then
  if [ "$(id -u)" = 0 ] && echo 524288 >/proc/sys/fs/inotify/max_user_watches 2>/dev/null; then
    echo "raised fs.inotify.max_user_watches from $watches to 524288 for the tests" >&2
  else
    echo "fs.inotify.max_user_watches is $watches; tests need more: sysctl fs.inotify.max_user_watches=524288" >&2
    exit 1
  fi
fi
