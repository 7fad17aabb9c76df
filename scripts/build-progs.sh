#!/usr/bin/env bash
# Build the BPF test objects progs/*.bpf.c -> progs/*.bpf.o (and the -mcpu=v3
# variants listed in V3_PROGS -> progs/*.v3.bpf.o).
#
# Usage: bash scripts/build-progs.sh [OUTDIR]     (default: progs/)
#
# The build is deterministic: run from the repo root with relative source
# paths and -fdebug-prefix-map, so no absolute checkout path ends up in DWARF
# or in BTF line info, and two builds are byte-identical. CI rebuilds into a
# temp dir and compares with the committed objects (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

CLANG=${CLANG:-clang-19}
OUTDIR=${1:-progs}
V3_PROGS="globals isa arena arena_ds"

if ! command -v "$CLANG" >/dev/null 2>&1; then
  echo "build-progs: $CLANG not found (apt-get install clang-19 llvm-19 libbpf-dev linux-libc-dev)" >&2
  exit 1
fi
for h in /usr/include/bpf/bpf_helpers.h /usr/include/linux/bpf.h; do
  if [ ! -f "$h" ]; then
    echo "build-progs: $h not found (apt-get install libbpf-dev linux-libc-dev)" >&2
    exit 1
  fi
done
mkdir -p "$OUTDIR"

CFLAGS=(-g -O2 -target bpf -D__TARGET_ARCH_x86
  -I/usr/include/x86_64-linux-gnu -Iprogs/include
  -Werror -Wall -Wno-unused-function
  -fdebug-prefix-map="$ROOT"=.
  -fno-ident)

build() { # src mcpu out
  echo "  CC  $3" >&2
  "$CLANG" "${CFLAGS[@]}" -mcpu="$2" -c "$1" -o "$3"
}

shopt -s nullglob
srcs=(progs/*.bpf.c)
if [ ${#srcs[@]} -eq 0 ]; then
  echo "build-progs: no progs/*.bpf.c found" >&2
  exit 1
fi
for src in "${srcs[@]}"; do
  name=$(basename "$src" .bpf.c)
  build "$src" v4 "$OUTDIR/$name.bpf.o"
done
for name in $V3_PROGS; do
  build "progs/$name.bpf.c" v3 "$OUTDIR/$name.v3.bpf.o"
done
