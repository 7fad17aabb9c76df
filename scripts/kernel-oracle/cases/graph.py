# SPDX-License-Identifier: MIT
"""Cases for progs/graph.bpf.o (SEC("syscall"): bpf_obj_new/drop, rbtrees, bpf_kptr_xchg).

No context is passed. kptr_stash keeps a node in stash_map between runs (and .data's stash_gen
counts on), so its three runs return 0, 101, 102.

kptr_stash_host_value: the host writes stash_map's element (key 3) with 0xdeadbeef where the
__kptr field is; the kernel does not copy a value's kptr field from user space (the element
is replaced, its node dropped, the new field NULL), so the run finds no old node.
"""
from _common import C
import struct

CASES = [
    C("rbtree_order", "16 nodes, keys (i*5)&7 added under the lock, popped with first+remove", "rbtree_order"),
    C("rbtree_order_again", "the same on the tree the first run emptied", "rbtree_order"),
    C("rbtree_nulls", "first on an empty tree, remove of an unadded node and of a node in another tree", "rbtree_nulls"),
    C("kptr_swap", "bpf_kptr_xchg a node into an ARRAY value's __kptr, back out, then NULL", "kptr_swap"),
    C("kptr_stash_1", "HASH value's __kptr empty: stash node 101, return 0", "kptr_stash"),
    C("kptr_stash_2", "stash node 102, return the node 101 the last run left", "kptr_stash"),
    C("kptr_stash_3", "stash node 103, return 102", "kptr_stash"),
    C("obj_sizes", "bpf_obj_new of a 4088-byte and a 0-byte struct: only the first is not NULL", "obj_sizes"),
    C("kptr_stash_host_value", "host update of the HASH value with junk in the __kptr field: the field is NULL", "kptr_stash",
      maps={"stash_map": [(struct.pack("<i", 3), struct.pack("<Q", 0xdeadbeef))]}),
]
