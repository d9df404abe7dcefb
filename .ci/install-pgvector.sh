#!/usr/bin/env bash
# Install the pgvector extension ("vector") into the local PostgreSQL server.
#
# Debian bookworm has no pgvector package for PostgreSQL 15, so this builds it from
# Debian's own pgvector source package in trixie: a deb-src entry only (no binary
# packages from trixie, so nothing else gets upgraded), postgresql-server-dev-15 from
# bookworm, then `make && make install` against pg_config (about 10 s of compiling).
#
# Idempotent: exits at once when vector.control and vector.so are already installed.
# Runs as root or through sudo. Non-interactive. Usage: bash .ci/install-pgvector.sh
# Environment: PG_MAJOR (default 15), PGVECTOR_SUITE (default trixie).
set -euo pipefail

PG_MAJOR="${PG_MAJOR:-15}"
SUITE="${PGVECTOR_SUITE:-trixie}"
PG_CONFIG="/usr/lib/postgresql/$PG_MAJOR/bin/pg_config"
SRC_LIST="/etc/apt/sources.list.d/argus-pgvector-src.sources"

log() { echo "install-pgvector: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }
trap 'rc=$?; log "ERROR: failed (exit $rc) at line $LINENO: $BASH_COMMAND"; exit $rc' ERR

export DEBIAN_FRONTEND=noninteractive
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || die "not root and sudo is not available"
  SUDO="sudo"
fi

installed() {
  local sharedir=/usr/share/postgresql/$PG_MAJOR pkglibdir=/usr/lib/postgresql/$PG_MAJOR/lib
  if [ -x "$PG_CONFIG" ]; then
    sharedir="$("$PG_CONFIG" --sharedir)"
    pkglibdir="$("$PG_CONFIG" --pkglibdir)"
  fi
  [ -f "$sharedir/extension/vector.control" ] && [ -f "$pkglibdir/vector.so" ]
}

if installed; then
  log "pgvector is already installed for PostgreSQL $PG_MAJOR"
  exit 0
fi

[ -x "/usr/lib/postgresql/$PG_MAJOR/bin/postgres" ] ||
  die "PostgreSQL $PG_MAJOR server is not installed (apt-get install postgresql-$PG_MAJOR first)"
command -v apt-get >/dev/null 2>&1 || die "apt-get not found: this script supports Debian only"

# Find the Debian mirror and keyring the existing apt sources use (deb822 or one-line format).
mirror="" keyring=""
for f in /etc/apt/sources.list.d/*.sources; do
  [ -f "$f" ] && [ "$f" != "$SRC_LIST" ] || continue
  read -r mirror keyring < <(awk -v RS= '
    /(^|\n)Suites:[^\n]*[ \t]bookworm([ \t\n]|$)/ || /(^|\n)Suites:[ \t]*bookworm([ \t\n]|$)/ {
      u = ""; k = ""
      n = split($0, lines, "\n")
      for (i = 1; i <= n; i++) {
        if (lines[i] ~ /^URIs:/)      { split(lines[i], a, /[ \t]+/); u = a[2] }
        if (lines[i] ~ /^Signed-By:/) { split(lines[i], a, /[ \t]+/); k = a[2] }
      }
      if (u ~ /\/debian\/?$/) { print u, k; exit }
    }' "$f") || true
  [ -n "$mirror" ] && break
done
if [ -z "$mirror" ] && [ -f /etc/apt/sources.list ]; then
  line="$(grep -E '^[[:space:]]*deb[[:space:]].*[[:space:]]bookworm[[:space:]]' /etc/apt/sources.list | grep -v security | head -1 || true)"
  if [ -n "$line" ]; then
    keyring="$(sed -n 's/.*signed-by=\([^] ]*\).*/\1/p' <<<"$line")"
    mirror="$(sed -E 's/^[[:space:]]*deb[[:space:]]+(\[[^]]*\][[:space:]]+)?([^[:space:]]+).*/\2/' <<<"$line")"
  fi
fi
mirror="${mirror:-http://deb.debian.org/debian}"
if [ -z "$keyring" ] && [ -f /usr/share/keyrings/debian-archive-keyring.gpg ]; then
  keyring=/usr/share/keyrings/debian-archive-keyring.gpg
fi
log "using deb-src $mirror $SUITE main${keyring:+ (Signed-By $keyring)}"

tmp="$(mktemp -d /tmp/pgvector-build.XXXXXX)"
cleanup() {
  rm -rf "$tmp"
  # Drop the trixie deb-src entry again so later `apt-get update`s don't fetch its index.
  if [ -f "$SRC_LIST" ]; then $SUDO rm -f "$SRC_LIST" || true; fi
}
trap cleanup EXIT

{
  echo "# Added by Argus .ci/install-pgvector.sh: source packages only, to build pgvector."
  echo "Types: deb-src"
  echo "URIs: $mirror"
  echo "Suites: $SUITE"
  echo "Components: main"
  [ -n "$keyring" ] && echo "Signed-By: $keyring"
} | $SUDO tee "$SRC_LIST" >/dev/null

log "apt-get update"
$SUDO apt-get update -qq || die "apt-get update failed"

log "installing build dependencies (postgresql-server-dev-$PG_MAJOR, build-essential, dpkg-dev)"
$SUDO apt-get install -y -qq --no-install-recommends \
  "postgresql-server-dev-$PG_MAJOR" build-essential dpkg-dev >/dev/null ||
  die "could not install postgresql-server-dev-$PG_MAJOR"
[ -x "$PG_CONFIG" ] || die "$PG_CONFIG not found after installing postgresql-server-dev-$PG_MAJOR"

log "fetching Debian source package pgvector from $SUITE"
# As root, apt downloads as its sandbox user _apt, which must be able to write there.
if [ "$(id -u)" -eq 0 ] && id _apt >/dev/null 2>&1; then chown _apt "$tmp"; fi
(cd "$tmp" && apt-get source -qq --only-source pgvector >/dev/null) ||
  die "apt-get source pgvector failed (is a $SUITE deb-src reachable?)"
srcdir="$(find "$tmp" -mindepth 1 -maxdepth 1 -type d -name 'pgvector-*' | head -1)"
[ -n "$srcdir" ] && [ -f "$srcdir/Makefile" ] || die "no pgvector source tree in $tmp"
log "building $(basename "$srcdir") against $("$PG_CONFIG" --version)"

# OPTFLAGS="" builds portable code (no -march=native), as Debian's own package does.
make -s -C "$srcdir" -j"$(nproc)" PG_CONFIG="$PG_CONFIG" OPTFLAGS="" >/dev/null ||
  die "building pgvector failed"
$SUDO make -s -C "$srcdir" install PG_CONFIG="$PG_CONFIG" OPTFLAGS="" >/dev/null ||
  die "installing pgvector failed"

installed || die "pgvector files are missing after make install"
log "pgvector $(sed -n "s/^default_version = '\(.*\)'/\1/p" "$("$PG_CONFIG" --sharedir)/extension/vector.control") installed for PostgreSQL $PG_MAJOR"
