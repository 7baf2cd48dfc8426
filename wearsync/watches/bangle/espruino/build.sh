#!/usr/bin/env bash
# Builds Espruino's own Linux interpreters, for the Bangle.js conformance tests:
#   build/espruino/BANGLEJS2_LINUX/bin/espruino_banglejs2  (the watch's 12,000 variables,
#                                                           native Bangle, g and Storage)
#   build/espruino/LINUX/bin/espruino                       (the plain interpreter)
#
# Source: $ESPRUINO_DIR (an unpacked tree or the release tarball) if set, else
# ../shared/vendor/espruino-2v29.tar.gz, checked against its sha256. Nothing of Espruino is ever
# committed: everything lands in build/ (git-ignored). Run from anywhere; paths are relative to
# the repository root. A second run with the binaries in place does nothing.
#
# Two changes to the Linux port's hardware layer (targets/linux/jshardware.c), nothing else:
# - GPIO: the port reads pins through sysfs; it is pointed at ./gpio (relative to the process'
#   working directory) so a test presses BTN1 by writing 1 or 0 to gpio/gpio17/value, and the
#   interpreter sees the edge through its own polling, debounce and setWatch.
# - Clock: the port's jshSetSystemTime() is empty (only a wiringPi build keeps an offset), so
#   setTime() would shift the timers without moving the clock. A watch's clock does move; the
#   port is given an offset the same way, so setTime() behaves as on the nRF52.
# - Input: the port's input thread pushes console bytes and pin edges into the event queue
#   while the main loop pops them, and its jshInterruptOff() is empty, so the two race (seen
#   as "ASSERT(len <= 64) FAILED" at start-up). On the watch a push is an interrupt, atomic
#   to the main loop; here a lock gives the same: the main loop holds it except while it
#   sleeps, and the input thread pushes only with it held.
set -euo pipefail
root="$(cd "$(dirname "$0")/../../../.." && pwd)"
out="$root/build/espruino"
version=2v29
sha=4bbbe6ebc31e654e2dd7f9352e2ae76913c34467e889f551c181914ae9d987bb
tarball="$root/../shared/vendor/espruino-$version.tar.gz"
jobs="${JOBS:-2}"

boards=("$@")
[ ${#boards[@]} -gt 0 ] || boards=(BANGLEJS2_LINUX LINUX)

binary_of() {
  case "$1" in
    BANGLEJS2_LINUX) echo espruino_banglejs2 ;;
    LINUX) echo espruino ;;
    *) echo "unknown board $1" >&2; exit 2 ;;
  esac
}

unpack() { # $1: destination folder (absent)
  local src="${ESPRUINO_DIR:-}"
  mkdir -p "$1"
  if [ -n "$src" ] && [ -d "$src" ]; then
    cp -a "$src/." "$1/"
    return
  fi
  [ -n "$src" ] || src="$tarball"
  if [ ! -f "$src" ]; then
    echo "Espruino $version source not found: set ESPRUINO_DIR or provide $tarball" >&2
    exit 1
  fi
  if [ "$(basename "$src")" = "espruino-$version.tar.gz" ]; then
    echo "$sha  $src" | sha256sum -c --quiet - || { echo "bad checksum: $src" >&2; exit 1; }
  fi
  tar -xzf "$src" -C "$1" --strip-components=1
}

patch_hal() { # $1: source tree
  local hal="$1/targets/linux/jshardware.c"
  python3 - "$hal" <<'EOF'
import sys
path = sys.argv[1]
text = open(path).read()
get_old = "  return (JsSysTime)(tm.tv_sec)*1000000L + tm.tv_usec;\n#endif\n}"
get_new = "  return (JsSysTime)(tm.tv_sec)*1000000L + tm.tv_usec + wearsyncClockOffset;\n#endif\n}"
set_old = "void jshSetSystemTime(JsSysTime time) {\n#ifdef USE_WIRINGPI\n  baseSystemTime = time - micros();\n#endif"
set_new = ("void jshSetSystemTime(JsSysTime time) {\n#ifdef USE_WIRINGPI\n"
           "  baseSystemTime = time - micros();\n#else\n"
           "  wearsyncClockOffset += time - jshGetSystemTime();\n#endif")
anchor = "JsSysTime jshGetSystemTime() {"
lock, unlock = "pthread_mutex_lock(&wearsyncIoLock);", "pthread_mutex_unlock(&wearsyncIoLock);"
edits = [
    (get_old, get_new),
    (set_old, set_new),
    (anchor, "static JsSysTime wearsyncClockOffset = 0;\n" + anchor),
    ("pthread_t inputThread;", "pthread_t inputThread;\n"
     "static pthread_mutex_t wearsyncIoLock = PTHREAD_MUTEX_INITIALIZER;"),
    ("    // Read from the console if we have space\n",
     "    " + lock + "\n    // Read from the console if we have space\n"),
    ("    // Write any data we have\n", "    " + unlock + "\n    // Write any data we have\n"),
    ("    Pin pin;\n    for (pin=0;pin<JSH_PIN_COUNT;pin++)\n      if (gpioShouldWatch[pin]) {",
     "    " + lock + "\n    Pin pin;\n    for (pin=0;pin<JSH_PIN_COUNT;pin++)\n"
     "      if (gpioShouldWatch[pin]) {"),
    ("#endif\n\n    jshDelayMicroseconds(shortSleep ? 1000 : 50000);",
     "    " + unlock + "\n#endif\n\n    jshDelayMicroseconds(shortSleep ? 1000 : 50000);"),
    ("  int err = pthread_create(&inputThread,", "  " + lock + "\n"
     "  int err = pthread_create(&inputThread,"),
    ("  if (usecs >= 1000)\n    jshDelayMicroseconds(usecs);\n  return true;",
     "  " + unlock + "\n  if (usecs >= 1000)\n    jshDelayMicroseconds(usecs);\n"
     "  else\n    sched_yield();\n  " + lock + "\n  return true;"),
]
for old, new in edits:
    if text.count(old) != 1:
        sys.exit(f"{path}: not the expected Linux port ({old.strip()[:40]!r})")
    text = text.replace(old, new)
text = "#include <sched.h>\n#include <pthread.h>\n" + text
open(path, "w").write(text)
EOF
}

for board in "${boards[@]}"; do
  bin="$(binary_of "$board")"
  dir="$out/$board"
  if [ -x "$dir/bin/$bin" ]; then
    echo "espruino: $dir/bin/$bin is built"
    continue
  fi
  if ! command -v cc >/dev/null 2>&1 && ! command -v gcc >/dev/null 2>&1; then
    echo "espruino: no C compiler; the conformance tests will skip" >&2
    exit 0
  fi
  rm -rf "$dir.tmp"
  unpack "$dir.tmp"
  patch_hal "$dir.tmp"
  # The version script asks git for the commit; a throwaway repository answers it.
  (
    cd "$dir.tmp"
    git init -q
    git add -A 2>/dev/null
    git -c user.name=build -c user.email=build@localhost commit -qm "Espruino $version"
  )
  echo "espruino: building $board (make -j$jobs)"
  # DEFINES from the environment: the Makefile appends its own to it.
  (cd "$dir.tmp" && DEFINES='-DSYSFS_GPIO_DIR=\"gpio\"' make -j"$jobs" BOARD="$board" \
    >"$out/$board.log" 2>&1) || { tail -30 "$out/$board.log" >&2; exit 1; }
  rm -rf "$dir"
  mv "$dir.tmp" "$dir"
  echo "espruino: built $dir/bin/$bin"
done
