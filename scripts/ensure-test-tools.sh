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
# Real loggers for the log/ tests and logrotate for the copytruncate test:
# svlogd (runit), s6-log (s6), logger (bsdutils), logrotate; for the readiness
# tests, systemd-notify (systemd) and redis-server (its --supervised systemd
# and redis-cli ping); promtool (prometheus) for /metrics; chromium for the web page; zsh for its completion script. Without them those tests are skipped, saying why. Only their programs are used: a
# policy-rc.d forbids the packages to start anything system-wide (runsvdir)
# for the length of the install, as in scripts/install-peers.sh, and any
# supervisor that started anyway is ended by pid.
optional=()
command -v svlogd >/dev/null || optional+=(runit)
command -v s6-log >/dev/null || optional+=(s6)
command -v logger >/dev/null || optional+=(bsdutils)
command -v zsh >/dev/null || optional+=(zsh) # the completion script's test
command -v logrotate >/dev/null || optional+=(logrotate)
command -v systemd-notify >/dev/null || optional+=(systemd)
command -v redis-server >/dev/null || optional+=(redis-server)
# promtool (prometheus) checks the /metrics exposition of `supervise --http`.
command -v promtool >/dev/null || optional+=(prometheus)
# The web page's end-to-end tests drive Debian's headless Chromium through
# playwright-core (which downloads no browser of its own).
command -v chromium >/dev/null || optional+=(chromium)
# The fleet tests: real sshd per test host (network namespaces through ip, or
# loopback addresses), rsync for deploy, the ssh client.
[ -x /usr/sbin/sshd ] || optional+=(openssh-server)
command -v ssh >/dev/null || optional+=(openssh-client)
command -v rsync >/dev/null || optional+=(rsync)
command -v ip >/dev/null || optional+=(iproute2)
if [ ${#optional[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    policy=/usr/sbin/policy-rc.d
    saved=""
    if [ -e "$policy" ]; then saved=$(mktemp) && cp -p "$policy" "$saved"; fi
    restore_policy() { if [ -n "$saved" ]; then mv -f "$saved" "$policy"; else rm -f "$policy"; fi; }
    trap restore_policy EXIT
    printf '#!/bin/sh\n# ensure-test-tools.sh: no service starts during this install\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    before=$(ps -eo pid= | tr -d ' ')
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${optional[@]}" >/dev/null; } ||
      echo "could not install ${optional[*]}: the tests that need them are skipped" >&2
    restore_policy
    trap - EXIT
    for pid in $(ps -eo pid=,comm= | awk '$2 ~ /^(runsvdir|runsv|s6-svscan|s6-supervise|redis-server|prometheus|sshd)$/ {print $1}'); do
      if ! grep -qx "$pid" <<<"$before"; then
        echo "ending $(ps -o comm= -p "$pid") (pid $pid), started by its package" >&2
        kill "$pid" 2>/dev/null || true
      fi
    done
  else
    echo "not installed: ${optional[*]}: the log/, logrotate, readiness, web page and fleet tests that need them are skipped" >&2
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
