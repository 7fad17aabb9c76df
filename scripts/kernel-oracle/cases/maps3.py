# SPDX-License-Identifier: MIT
"""Cases for progs/maps3.bpf.o (maps-and-kernel-objects §2.10, §2.12-§2.14): the programs whose
results depend neither on the kernel's own call chain nor on a user-space producer. One load;
the programs run in this order and each case's .bss holds that program's results."""
from _common import C
from packets import pkt_udp4

UDP = pkt_udp4(payload=b"hello")

CASES = [
    C("urb_empty", "bpf_user_ringbuf_drain on an empty USER_RINGBUF: 0 samples (FORCE_WAKEUP); "
      "flags 4 → EINVAL", "urb_empty"),
    C("sk_storage", "SK_STORAGE on the tc test run's dummy socket: no element without F_CREATE, "
      "flags 2 → NULL, F_CREATE copies the initial value, the same pointer again, delete 0 then "
      "ENOENT, create from NULL is zeros", "sk_storage", UDP),
    C("sk_storage_again", "a second test run has a new socket: no storage carried over",
      "sk_storage", UDP),
    C("cg_storage", "CGROUP_STORAGE and PERCPU_CGROUP_STORAGE in a cgroup_skb test run with "
      "repeat 3: a fresh zeroed storage per call, shared by the repetitions", "cg_storage", UDP,
      repeat=3),
    C("cg_storage_again", "the next test-run call starts from zero again", "cg_storage", UDP,
      repeat=2),
    C("stack_errnos", "bpf_get_stackid/bpf_get_stack: bad flags EINVAL, skip 255 EFAULT, the "
      "same stack twice the same id, a size not a multiple of 8 EINVAL", "stack_errnos"),
    C("cgroup_array_empty", "CGROUP_ARRAY with empty slots: bpf_current_task_under_cgroup and "
      "bpf_skb_under_cgroup give EAGAIN, an index past max_entries E2BIG", "cgroup_array", UDP),
]
