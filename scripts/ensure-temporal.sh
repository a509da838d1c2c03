#!/usr/bin/env bash
# Makes the two Temporal servers Glidepath's tests and demo need available, and prints where they are:
#
#   TEMPORAL_CLI_PATH=<path to `temporal` v1.5.1, whose `server start-dev` is the dev server>
#   TEMPORAL_TEST_SERVER_PATH=<path to an executable wrapper that execs the Java time-skipping test server>
#
# Lookup order for the dev server: $TEMPORAL_CLI_PATH → `temporal` on PATH → the cache
# (~/.cache/glidepath, or $GLIDEPATH_CACHE) → a download from temporal.download when it is reachable →
# a build from the Go module proxy (`go install …/cmd/temporal@v1.5.1`; v1.6+ cannot be built that way).
# Lookup order for the test server: $TEMPORAL_TEST_SERVER_PATH → the cache → Maven Central (needs java + mvn).
#
# Everything lands outside the repository so a fresh clone reuses it. Safe to run again: a cached binary
# is reused without network access. Pass --print-env to print only the two assignments, --cli-only to
# obtain only the dev server (what the demo of an installed package needs).
set -euo pipefail

CLI_VERSION=1.5.1
TEST_SERVER_VERSION=1.38.0
cache="${GLIDEPATH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/glidepath}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
quiet=false
cli_only=false
for arg in "$@"; do
  case "$arg" in
    --print-env) quiet=true ;;
    --cli-only) cli_only=true ;; # only the dev server (the demo): no Java test server
    *) echo "ensure-temporal: unknown argument $arg (use --print-env, --cli-only)" >&2; exit 2 ;;
  esac
done

log() { $quiet || echo "ensure-temporal: $*" >&2; }

cli_ok() { [ -x "$1" ] && "$1" --version >/dev/null 2>&1; }

find_cli() {
  if [ -n "${TEMPORAL_CLI_PATH:-}" ]; then
    cli_ok "$TEMPORAL_CLI_PATH" || { echo "ensure-temporal: TEMPORAL_CLI_PATH=$TEMPORAL_CLI_PATH is not a working temporal binary" >&2; exit 1; }
    log "dev server: \$TEMPORAL_CLI_PATH ($TEMPORAL_CLI_PATH)"; echo "$TEMPORAL_CLI_PATH"; return
  fi
  if command -v temporal >/dev/null 2>&1; then
    local p; p="$(command -v temporal)"
    log "dev server: temporal on PATH ($p, $("$p" --version 2>/dev/null | head -1))"; echo "$p"; return
  fi
  local dir="$cache/temporal-cli-$CLI_VERSION" bin="$cache/temporal-cli-$CLI_VERSION/bin/temporal"
  if cli_ok "$bin"; then log "dev server: cached ($bin)"; echo "$bin"; return; fi
  mkdir -p "$dir/bin"
  # Online: the same archive the SDK downloads. Fails within seconds where only package registries are reachable.
  local os arch url tmp
  os="$(uname -s | tr '[:upper:]' '[:lower:]')"; arch="$(uname -m)"
  case "$arch" in x86_64) arch=amd64 ;; aarch64|arm64) arch=arm64 ;; esac
  url="https://temporal.download/cli/archive/v$CLI_VERSION?platform=$os&arch=$arch"
  tmp="$(mktemp -d)"
  if command -v curl >/dev/null 2>&1 && curl -fsSL --connect-timeout 5 --max-time 120 -o "$tmp/cli.tgz" "$url" 2>/dev/null \
     && tar -xzf "$tmp/cli.tgz" -C "$tmp" 2>/dev/null && [ -f "$tmp/temporal" ]; then
    mv "$tmp/temporal" "$bin"; chmod +x "$bin"; rm -rf "$tmp"
    log "dev server: downloaded v$CLI_VERSION ($bin)"; echo "$bin"; return
  fi
  rm -rf "$tmp"
  command -v go >/dev/null 2>&1 || { echo "ensure-temporal: no temporal binary found, temporal.download is unreachable and Go is not installed; install the Temporal CLI (brew install temporal) or Go ≥ 1.25" >&2; exit 1; }
  log "dev server: temporal.download unreachable; building v$CLI_VERSION from the Go module proxy (first time only, several minutes)…"
  local start=$SECONDS
  CGO_ENABLED=0 GOBIN="$dir/bin" GOFLAGS=-mod=mod go install -trimpath \
    -ldflags "-s -w -X github.com/temporalio/cli/temporalcli.Version=$CLI_VERSION" \
    "github.com/temporalio/cli/cmd/temporal@v$CLI_VERSION" >&2
  cli_ok "$bin" || { echo "ensure-temporal: go install finished but $bin does not run" >&2; exit 1; }
  log "dev server: built in $((SECONDS - start))s ($bin)"
  echo "$bin"
}

find_test_server() {
  if [ -n "${TEMPORAL_TEST_SERVER_PATH:-}" ]; then
    [ -x "$TEMPORAL_TEST_SERVER_PATH" ] || { echo "ensure-temporal: TEMPORAL_TEST_SERVER_PATH=$TEMPORAL_TEST_SERVER_PATH is not executable" >&2; exit 1; }
    log "test server: \$TEMPORAL_TEST_SERVER_PATH ($TEMPORAL_TEST_SERVER_PATH)"; echo "$TEMPORAL_TEST_SERVER_PATH"; return
  fi
  local dir="$cache/temporal-test-server-$TEST_SERVER_VERSION"
  local wrapper="$dir/temporal-test-server"
  if [ -x "$wrapper" ] && ls "$dir"/lib/temporal-test-server-*.jar >/dev/null 2>&1; then
    log "test server: cached ($wrapper)"; echo "$wrapper"; return
  fi
  command -v java >/dev/null 2>&1 || { echo "ensure-temporal: java is needed for the time-skipping test server" >&2; exit 1; }
  command -v mvn >/dev/null 2>&1 || { echo "ensure-temporal: mvn is needed to fetch io.temporal:temporal-test-server from Maven Central" >&2; exit 1; }
  log "test server: fetching io.temporal:temporal-test-server:$TEST_SERVER_VERSION from Maven Central…"
  rm -rf "$dir.tmp"; mkdir -p "$dir.tmp/lib"
  mvn -q -B -f "$here/temporal-test-server/pom.xml" dependency:copy-dependencies \
    -DoutputDirectory="$dir.tmp/lib" -DincludeScope=runtime >&2
  # The SDK starts this file directly (no shell) and SIGKILLs only its direct child on teardown, so it
  # needs a shebang and must `exec` the JVM. The JVM flags keep start-up well under the SDK's 5 s limit
  # on 2 cores (C1 only, serial GC, the default class-data-sharing archive).
  cat > "$dir.tmp/temporal-test-server" <<'WRAP'
#!/bin/sh
# Started by @temporalio/testing as: <this> <port> [args]
here=$(dirname "$(readlink -f "$0")")
exec java -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xshare:auto -Xss512k -cp "$here/lib/*" io.temporal.testserver.TestServer "$@"
WRAP
  chmod +x "$dir.tmp/temporal-test-server"
  rm -rf "$dir"; mv "$dir.tmp" "$dir"
  log "test server: ready ($wrapper)"
  echo "$wrapper"
}

cli="$(find_cli)"
echo "TEMPORAL_CLI_PATH=$cli"
$cli_only && exit 0
test_server="$(find_test_server)"
echo "TEMPORAL_TEST_SERVER_PATH=$test_server"
