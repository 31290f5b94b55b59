#!/usr/bin/env bash
# The steps of the o2ims-replay GitHub Action (action.yml), as one script: `make test` runs it too.
#
#   action.sh install   create a virtualenv and pip-install o2ims-replay into it; put its bin/ on the PATH
#   action.sh diff      the drift gate: `o2replay diff --git BASE`, annotations in the log (text outside GitHub
#                       Actions), Markdown in the job summary, exit 1 on drift at or above --fail-on
#   action.sh serve     start `o2replay serve` in the background and wait until /health answers
#   action.sh stop      stop that server (the job's end stops it too)
#
# Inputs come as environment variables (never interpolated into the script, so no input can inject shell):
#   O2REPLAY_PYTHON        interpreter for the virtualenv (default python3; 3.11 or newer)
#   O2REPLAY_INSTALL       what pip installs (default: the action's own checkout, $GITHUB_ACTION_PATH)
#   O2REPLAY_VENV          where the virtualenv goes (default $RUNNER_TEMP/o2replay-venv)
#   O2REPLAY_BASE          revision to compare with (default origin/$GITHUB_BASE_REF on pull requests)
#   O2REPLAY_PATHS         cassette folders or files, space-separated (default cassettes)
#   O2REPLAY_FAIL_ON       breaking (default), warning, info or never
#   O2REPLAY_SERVE_ARGS    arguments of `o2replay serve` (default: cassettes), space-separated
#   O2REPLAY_HOST, O2REPLAY_PORT    where the server listens (default 127.0.0.1:30205)
#   O2REPLAY_READY_TIMEOUT seconds to wait for /health (default 60: a cold start of 100k interactions takes ~10 s)
# GitHub's own: GITHUB_ACTIONS, GITHUB_ACTION_PATH, GITHUB_OUTPUT, GITHUB_ENV, GITHUB_PATH, GITHUB_STEP_SUMMARY, GITHUB_BASE_REF,
# RUNNER_TEMP. Outside GitHub Actions (GitLab CI, a shell), unset ones fall back to harmless defaults.
set -euo pipefail

tmp="${RUNNER_TEMP:-${TMPDIR:-/tmp}}"
venv="${O2REPLAY_VENV:-$tmp/o2replay-venv}"
host="${O2REPLAY_HOST:-127.0.0.1}"
port="${O2REPLAY_PORT:-30205}"
pidfile="$tmp/o2replay-serve.pid"
logfile="$tmp/o2replay-serve.log"

say() { echo "o2replay action: $*"; }
fail() { echo "::error title=o2ims-replay::$*" >&2; exit 2; }
output() { if [ -n "${GITHUB_OUTPUT:-}" ]; then echo "$1=$2" >> "$GITHUB_OUTPUT"; fi; }

o2replay() {
  if [ -x "$venv/bin/o2replay" ]; then "$venv/bin/o2replay" "$@"; else command o2replay "$@"; fi
}

install() {
  local python="${O2REPLAY_PYTHON:-python3}"
  local what="${O2REPLAY_INSTALL:-${GITHUB_ACTION_PATH:-}}"
  [ -n "$what" ] || fail "nothing to install: set O2REPLAY_INSTALL (a path, a wheel or a pip requirement)"
  command -v "$python" >/dev/null || fail "$python not found: install Python 3.11 or newer first (actions/setup-python)"
  "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || fail "$("$python" -V 2>&1) is too old: o2ims-replay needs Python 3.11 or newer"
  [ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check "$what"
  if [ -n "${GITHUB_PATH:-}" ]; then echo "$venv/bin" >> "$GITHUB_PATH"; fi
  say "installed $("$venv/bin/o2replay" --version) in $venv"
}

base_revision() {
  local base="${O2REPLAY_BASE:-}"
  if [ -z "$base" ]; then
    [ -n "${GITHUB_BASE_REF:-}" ] || fail "no base revision: set the base input (on pull requests it is origin/<base branch>)"
    base="origin/$GITHUB_BASE_REF"
  fi
  if ! git rev-parse -q --verify "$base^{commit}" >/dev/null; then
    # actions/checkout fetches one commit by default: fetch the base branch's tip (its tree is all diff needs).
    [ -n "${GITHUB_BASE_REF:-}" ] && [ "$base" = "origin/$GITHUB_BASE_REF" ] \
      && git fetch -q --no-tags --depth=1 origin "+refs/heads/$GITHUB_BASE_REF:refs/remotes/origin/$GITHUB_BASE_REF" \
      || true
    git rev-parse -q --verify "$base^{commit}" >/dev/null || fail "base revision $base is not in this clone"
  fi
  echo "$base"
}

diff_gate() {
  local base fail_on="${O2REPLAY_FAIL_ON:-breaking}" report="$tmp/o2replay-drift.md" code=0
  base="$(base_revision)"
  # shellcheck disable=SC2206 # paths are space-separated on purpose
  local paths=(${O2REPLAY_PATHS:-cassettes})
  if [ "${GITHUB_ACTIONS:-}" = true ]; then  # annotations on the pull request's lines
    o2replay diff --git "$base" "${paths[@]}" --format github --fail-on never
  else
    o2replay diff --git "$base" "${paths[@]}" --format text --fail-on never
  fi
  o2replay diff --git "$base" "${paths[@]}" --format markdown --fail-on "$fail_on" -o "$report" || code=$?
  [ "$code" -le 1 ] || exit "$code"
  if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then cat "$report" >> "$GITHUB_STEP_SUMMARY"; fi
  output drift "$code"
  output report "$report"
  if [ "$code" = 1 ]; then say "drift at or above $fail_on since $base (see the job summary)"; else say "no drift at or above $fail_on since $base"; fi
  exit "$code"
}

serve() {
  local url="http://$host:$port" timeout="${O2REPLAY_READY_TIMEOUT:-60}"
  # shellcheck disable=SC2206
  local args=(${O2REPLAY_SERVE_ARGS:-cassettes})
  nohup "$(command -v "$venv/bin/o2replay" || command -v o2replay)" serve "${args[@]}" --host "$host" --port "$port" \
    > "$logfile" 2>&1 < /dev/null &
  echo $! > "$pidfile"
  local python="$venv/bin/python"; [ -x "$python" ] || python="${O2REPLAY_PYTHON:-python3}"
  if ! "$python" - "$url/health" "$timeout" "$(cat "$pidfile")" <<'PY'
import os, sys, time, urllib.request
url, timeout, pid = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
deadline = time.monotonic() + timeout
while time.monotonic() < deadline:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        sys.exit("the server exited")
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            if r.status == 200:
                sys.exit(0)
    except OSError:
        pass
    time.sleep(0.2)
sys.exit(f"no answer from {url} within {timeout:g} s")
PY
  then
    tail -n 20 "$logfile" >&2 || true
    fail "o2replay serve did not become ready (log: $logfile)"
  fi
  output url "$url"
  if [ -n "${GITHUB_ENV:-}" ]; then echo "O2REPLAY_URL=$url" >> "$GITHUB_ENV"; fi
  # The banner, not the log's first line: the server may log a note (the inferred dialect...) before it.
  say "$(grep -m 1 '^o2replay serve: ' "$logfile" || head -n 1 "$logfile")"
}

stop() {
  [ -f "$pidfile" ] || { say "no server started"; return 0; }
  local pid; pid="$(cat "$pidfile")"
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  rm -f "$pidfile"
  say "server stopped"
}

case "${1:-}" in
  install) install ;;
  diff) diff_gate ;;
  serve) serve ;;
  stop) stop ;;
  *) echo "usage: action.sh install|diff|serve|stop" >&2; exit 2 ;;
esac
