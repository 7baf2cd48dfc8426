#!/bin/sh
# Print the path of an unpacked Apache NimBLE 1.10.0 tree, unpacking it into firmware/build/
# first when needed. Sources, in order: $NIMBLE_DIR (an unpacked tree); the release tarball in
# $SHARED_DIR/vendor (default: ../shared beside the repository root), checked against its
# sha256. NimBLE's sources are never copied into the repository.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build="$here/build"
tarball_name=mynewt-nimble-1.10.0.tar.gz
sha256=e0455bd0251feb913f2e625bba1b31d71aa89da3b7af5d66b99f54e6d040bd04

if [ -n "${NIMBLE_DIR:-}" ]; then
  if [ ! -d "$NIMBLE_DIR/nimble/host" ]; then
    echo "NIMBLE_DIR=$NIMBLE_DIR is not a NimBLE source tree (no nimble/host)" >&2
    exit 3
  fi
  (cd "$NIMBLE_DIR" && pwd)
  exit 0
fi

unpacked="$build/mynewt-nimble"
if [ -f "$unpacked/.unpacked" ]; then
  echo "$unpacked"
  exit 0
fi
shared="${SHARED_DIR:-$here/../../shared}"
tarball="$shared/vendor/$tarball_name"
if [ ! -f "$tarball" ]; then
  echo "NimBLE not found: set NIMBLE_DIR, or put $tarball_name in \$SHARED_DIR/vendor ($shared/vendor)" >&2
  exit 3
fi
actual=$(sha256sum "$tarball" | cut -d' ' -f1)
if [ "$actual" != "$sha256" ]; then
  echo "$tarball: sha256 $actual, expected $sha256" >&2
  exit 3
fi
mkdir -p "$build"
rm -rf "$unpacked"
tar -xzf "$tarball" -C "$build"
touch "$unpacked/.unpacked"
echo "$unpacked"
