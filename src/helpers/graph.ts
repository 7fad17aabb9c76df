/**
 * BPF's own allocated objects and red-black trees (kernel/bpf/helpers.c): `bpf_obj_new_impl` /
 * `bpf_obj_drop_impl` (an object of a program BTF type, zeroed, in kernel memory),
 * `bpf_rbtree_add_impl` / `bpf_rbtree_first` / `bpf_rbtree_remove` (a tree per `struct
 * bpf_rb_root`, ordered by the program's `less` callback), and the `bpf_kptr_xchg` helper
 * (swap a `__kptr` field, return the old pointer).
 *
 * The tree is kept as an array sorted by `less`: a node goes after every node it is not less
 * than (the kernel's walk goes right on "not less"), so equal keys keep insertion order.
 * Objects live in one growing kernel heap region; a dropped object's bytes are poisoned and
 * not reused, so a use after free reads garbage instead of another object.
 */
import { RuntimeError } from '../errors.js';
import { AddressSpace, type MemoryRegion } from '../memory.js';
import type { SimKernel } from '../kernel/kernel.js';
import type { CallContext, NativeFn } from '../runtime.js';

const EINVAL = 22;
const HEAP_CHUNK = 1 << 20;
/**
 * bpf_mem_alloc (kernel/bpf/memalloc.c) serves sizes up to BPF_MEM_ALLOC_SIZE_MAX (4096),
 * including the 8-byte llist_node it puts before the object, and gives NULL for 0 bytes.
 */
const MEM_ALLOC_SIZE_MAX = 4096;
const LLIST_NODE_SZ = 8;

export function createGraphKfuncs(kernel: SimKernel, sizeOfType: (id: number) => number | undefined): Map<string, NativeFn> {
  const heaps: MemoryRegion[] = [];
  let used = HEAP_CHUNK;
  const live = new Map<bigint, number>();
  const alloc = (size: number): bigint => {
    if (size === 0 || size + LLIST_NODE_SZ > MEM_ALLOC_SIZE_MAX) return 0n;
    const rounded = Math.ceil(size / 8) * 8;
    if (used + rounded > HEAP_CHUNK) {
      heaps.push(kernel.memory.map(`bpf_obj_new heap ${heaps.length}`, new Uint8Array(HEAP_CHUNK), true));
      used = 0;
    }
    const address = AddressSpace.address(heaps[heaps.length - 1], used);
    used += rounded;
    live.set(address, rounded);
    return address;
  };

  /** Tree contents by root address, and the root each linked node is in. */
  const trees = new Map<bigint, bigint[]>();
  const rootOf = new Map<bigint, bigint>();

  return new Map<string, NativeFn>([
    ['bpf_obj_new_impl', (ctx) => {
      const id = ctx.argLo(1) >>> 0;
      const size = sizeOfType(id);
      if (size === undefined) throw new RuntimeError(ctx.index, `bpf_obj_new: type id ${id} is not a struct of the program's BTF`);
      return alloc(size);
    }],
    ['bpf_obj_drop_impl', (ctx) => {
      const p = ctx.arg(1);
      const size = live.get(p);
      if (size === undefined) throw new RuntimeError(ctx.index, `bpf_obj_drop: 0x${p.toString(16)} is not an object bpf_obj_new allocated (or it was dropped)`);
      live.delete(p);
      for (const [node, root] of rootOf) if (node >= p && node < p + BigInt(size)) { rootOf.delete(node); remove(root, node); }
      kernel.memory.write(p, new Uint8Array(size).fill(0x6b)); // POISON_FREE
    }],
    ['bpf_rbtree_add_impl', (ctx) => {
      const root = ctx.arg(1), node = ctx.arg(2), less = ctx.arg(3);
      if (rootOf.has(node)) return -EINVAL; // already in a tree: the kernel drops the node's reference
      const list = trees.get(root) ?? [];
      let lo = 0, hi = list.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (isLess(ctx, less, node, list[mid])) hi = mid; else lo = mid + 1;
      }
      list.splice(lo, 0, node);
      trees.set(root, list);
      rootOf.set(node, root);
      return 0;
    }],
    ['bpf_rbtree_first', (ctx) => trees.get(ctx.arg(1))?.[0] ?? 0n],
    ['bpf_rbtree_remove', (ctx) => {
      const root = ctx.arg(1), node = ctx.arg(2);
      if (rootOf.get(node) !== root) return 0n;
      rootOf.delete(node);
      remove(root, node);
      return node;
    }],
  ]);

  function remove(root: bigint, node: bigint): void {
    const list = trees.get(root);
    const i = list?.indexOf(node) ?? -1;
    if (list && i >= 0) list.splice(i, 1);
  }
}

function isLess(ctx: CallContext, less: bigint, a: bigint, b: bigint): boolean {
  return (ctx.callFunction(less, [a, b]) & 0xffn) !== 0n;
}

/** bpf_kptr_xchg(map_value_field, new): the field's old pointer, the new one stored. */
export const kptrXchg: NativeFn = (ctx) => {
  const at = ctx.memory.locate(ctx.arg(1), 8);
  if (!at || !at.region.writable) throw new RuntimeError(ctx.index, `bpf_kptr_xchg: 0x${ctx.arg(1).toString(16)} is not a writable kptr field`);
  const old = at.region.view.getBigUint64(at.offset, true);
  at.region.view.setBigUint64(at.offset, ctx.arg(2), true);
  return old;
};
