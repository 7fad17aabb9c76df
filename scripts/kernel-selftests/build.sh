#!/usr/bin/env bash
# Compiles the Linux kernel's verifier selftests (tools/testing/selftests/bpf/progs/verifier_*.c)
# into OUT, as the selftests Makefile builds them for test_progs (BPF_CFLAGS, CLANG_BPF_BUILD_RULE:
# -O2 --target=bpfel -mcpu=v3 -DENABLE_ATOMICS_TESTS). A developer tool: nothing it makes goes
# into the repository.
#
#   scripts/kernel-selftests/build.sh [LINUX_SRC] [OUT]
#
# LINUX_SRC defaults to /work/linux/linux-source-7.2, OUT to /tmp/bpfrun-kselftests. It makes
# OUT/include/bpf/bpf_helper_defs.h (scripts/bpf_doc.py, as libbpf's Makefile does), links
# libbpf's headers next to it, and dumps OUT/include/vmlinux.h from /sys/kernel/btf/vmlinux with
# bpftool when bpftool is there (files that include vmlinux.h fail to compile otherwise).
# Objects go to OUT/obj/NAME.bpf.o, clang's messages to OUT/obj/NAME.log.
# MCPU=v4 builds as the test_progs-cpuv4 runner does (default v3: test_progs).
set -u
LINUX=${1:-/work/linux/linux-source-7.2}
OUT=${2:-/tmp/bpfrun-kselftests}
CLANG=${CLANG:-clang-19}
JOBS=${JOBS:-2}
SELF=$LINUX/tools/testing/selftests/bpf

mkdir -p "$OUT/include/bpf" "$OUT/obj"
python3 "$LINUX/scripts/bpf_doc.py" --header --file "$LINUX/include/uapi/linux/bpf.h" > "$OUT/include/bpf/bpf_helper_defs.h"
for h in "$LINUX"/tools/lib/bpf/*.h; do ln -sf "$h" "$OUT/include/bpf/"; done
if [ ! -s "$OUT/include/vmlinux.h" ] && command -v bpftool >/dev/null && [ -r /sys/kernel/btf/vmlinux ]; then
  bpftool btf dump file /sys/kernel/btf/vmlinux format c > "$OUT/include/vmlinux.h"
fi

# The Makefile's get_sys_includes: clang's own search path, after the project's.
SYS_INCLUDES=$($CLANG -v -E - </dev/null 2>&1 | sed -n '/<...> search starts here:/,/End of search list./{ s| \(/.*\)|-idirafter \1|p }')
CFLAGS="-g -Wall -D__TARGET_ARCH_x86 -mlittle-endian -I$OUT/include -I$SELF -I$LINUX/tools/include/uapi \
  -I$LINUX/tools/include -I$SELF/libarena/include -std=gnu11 -fno-strict-aliasing -Wno-microsoft-anon-tag \
  -fms-extensions -Wno-compare-distinct-pointer-types -Wno-initializer-overrides $SYS_INCLUDES \
  -DENABLE_ATOMICS_TESTS -O2 --target=bpfel -mcpu=${MCPU:-v3}"

# Files calling 7.2 kfuncs an older vmlinux.h does not declare get kfuncs-7.2.h force-included.
NEEDS_KFUNCS_H=" verifier_sock verifier_netfilter_ctx verifier_bpf_trap "
KFUNCS_H=$(cd "$(dirname "$0")" && pwd)/kfuncs-7.2.h
export CLANG CFLAGS OUT NEEDS_KFUNCS_H KFUNCS_H
ls "$SELF"/progs/verifier_*.c | xargs -P "$JOBS" -I{} sh -c '
  n=$(basename {} .c)
  extra=""; case "$NEEDS_KFUNCS_H" in *" $n "*) extra="-include $KFUNCS_H";; esac
  if $CLANG $CFLAGS $extra -c {} -o "$OUT/obj/$n.bpf.o" >"$OUT/obj/$n.log" 2>&1; then echo "ok   $n"; else rm -f "$OUT/obj/$n.bpf.o"; echo "FAIL $n"; fi'
echo "objects: $(ls "$OUT"/obj/*.bpf.o 2>/dev/null | wc -l) of $(ls "$SELF"/progs/verifier_*.c | wc -l)"
