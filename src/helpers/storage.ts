/**
 * The helpers of the map types added by issue 12 item 3 (spec maps-and-kernel-objects §2.10,
 * §2.12-§2.14), and the minimal dynptr support bpf_user_ringbuf_drain's callbacks need:
 * - bpf_user_ringbuf_drain (kernel/bpf/ringbuf.c);
 * - bpf_dynptr_from_mem, bpf_dynptr_read, bpf_dynptr_write, bpf_dynptr_data and the kfuncs
 *   bpf_dynptr_size / bpf_dynptr_is_rdonly (kernel/bpf/helpers.c), for LOCAL dynptrs;
 * - bpf_{sk,task,inode,cgrp}_storage_get / _delete (bpf_local_storage.c and friends);
 * - bpf_get_local_storage (kernel/bpf/helpers.c, cgroup storages of the test run);
 * - bpf_get_stackid / bpf_get_stack (kernel/bpf/stackmap.c) on bpfrun's BPF frames;
 * - bpf_current_task_under_cgroup / bpf_skb_under_cgroup (CGROUP_ARRAY, ../maps/cgroup-array.ts).
 *
 * struct bpf_dynptr_kern (16 bytes in program memory): void *data; u32 size (bits 0-23 the
 * size, bits 28-30 the type, bit 31 read-only); u32 offset.
 */
import { CODE_WINDOW } from '../addresses.js';
import { RuntimeError } from '../errors.js';
import type { SimKernel } from '../kernel/kernel.js';
import type { BpfMap } from '../maps/base.js';
import { AddressSpace } from '../memory.js';
import { CgroupArrayMap } from '../maps/cgroup-array.js';
import { CgroupStorageMap } from '../maps/cgroup-storage.js';
import { SkBuff } from '../net/skb.js';
import { LocalStorageMap } from '../maps/local-storage.js';
import {
  BPF_F_SKIP_FIELD_MASK, BPF_F_USER_BUILD_ID, BPF_F_USER_STACK, stackMaxDepth, StackTraceMap,
} from '../maps/stack-trace.js';
import { DYNPTR_MAX_SIZE, UserRingBufMap } from '../maps/user-ringbuf.js';
import type { CallContext, NativeFn } from '../runtime.js';
import { hex } from '../text.js';
import {
  BPF_FUNC, BPF_MAP_TYPE_CGRP_STORAGE, BPF_MAP_TYPE_INODE_STORAGE, BPF_MAP_TYPE_SK_STORAGE, BPF_MAP_TYPE_TASK_STORAGE, E2BIG,
  EFAULT, EINVAL, ENOENT, type HelperName,
} from '../uapi.js';

/** The callback arguments (ARG_PTR_TO_FUNC) of these helpers. */
export const STORAGE_CALLBACK_ARGS: Readonly<Partial<Record<HelperName, readonly number[]>>> = { user_ringbuf_drain: [2] };

export const BPF_DYNPTR_TYPE_LOCAL = 1;
const DYNPTR_TYPE_SHIFT = 28;
const DYNPTR_SIZE_MASK = 0xffffff;
const DYNPTR_RDONLY_BIT = 0x80000000;
const DYNPTR_BYTES = 16;

/** The call chain bpf_get_stackid/bpf_get_stack see: the BPF frames' return addresses, innermost first. */
export function bpfCallChain(ctx: CallContext): bigint[] {
  const ips: bigint[] = [];
  for (const f of ctx.frames()) if (f.kind === 'bpf') ips.push(CODE_WINDOW.start + BigInt(f.pc + 1) * 8n);
  return ips;
}

export function createStorageHelpers(kernel: SimKernel): Partial<Record<HelperName, NativeFn>> {
  const mapArg = <T extends BpfMap>(ctx: CallContext, n: number, helper: HelperName, ok: (m: BpfMap) => m is T): T => {
    const m = kernel.mapAt(ctx.argLo(n), ctx.argHi(n));
    if (!m) throw new RuntimeError(ctx.index, `argument ${n} (${hex(ctx.arg(n))}) is not a map`);
    if (!ok(m)) throw new RuntimeError(ctx.index, `cannot pass map_type ${m.type} into func bpf_${helper}#${BPF_FUNC[helper]} (map '${m.name}'; spec §1.3)`);
    return m;
  };

  // ---- dynptrs ----
  interface Dynptr { data: bigint; size: number; type: number; rdonly: boolean; offset: number }
  const readDynptr = (ctx: CallContext, address: bigint): Dynptr => {
    const b = kernel.readOrFail(ctx.index, address, DYNPTR_BYTES);
    const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
    const sz = v.getUint32(8, true);
    return { data: v.getBigUint64(0, true), size: sz & DYNPTR_SIZE_MASK, type: (sz & ~DYNPTR_RDONLY_BIT) >>> DYNPTR_TYPE_SHIFT, rdonly: (sz & DYNPTR_RDONLY_BIT) !== 0, offset: v.getUint32(12, true) };
  };
  const writeDynptr = (ctx: CallContext, address: bigint, data: bigint, size: number, type: number): void => {
    const b = new Uint8Array(DYNPTR_BYTES);
    const v = new DataView(b.buffer);
    v.setBigUint64(0, data, true);
    v.setUint32(8, (size | (type << DYNPTR_TYPE_SHIFT)) >>> 0, true);
    v.setUint32(12, 0, true);
    kernel.writeOrFail(ctx.index, address, b);
  };
  /** bpf_dynptr_check_off_len. */
  const offLenOk = (d: Dynptr, off: bigint, len: bigint): boolean => len <= BigInt(d.size) && off <= BigInt(d.size) - len;

  // ---- local storages ----
  const STORAGE_TYPE: Partial<Record<HelperName, number>> = {
    sk_storage_get: BPF_MAP_TYPE_SK_STORAGE, sk_storage_delete: BPF_MAP_TYPE_SK_STORAGE,
    task_storage_get: BPF_MAP_TYPE_TASK_STORAGE, task_storage_delete: BPF_MAP_TYPE_TASK_STORAGE,
    inode_storage_get: BPF_MAP_TYPE_INODE_STORAGE, inode_storage_delete: BPF_MAP_TYPE_INODE_STORAGE,
    cgrp_storage_get: BPF_MAP_TYPE_CGRP_STORAGE, cgrp_storage_delete: BPF_MAP_TYPE_CGRP_STORAGE,
  };
  const storageMap = (ctx: CallContext, helper: HelperName): LocalStorageMap =>
    mapArg(ctx, 1, helper, (m): m is LocalStorageMap => m instanceof LocalStorageMap && m.type === STORAGE_TYPE[helper]);
  const storageGet = (helper: HelperName): NativeFn => (ctx) => {
    const m = storageMap(ctx, helper);
    const init = ctx.arg(3) === 0n ? undefined : kernel.readOrFail(ctx.index, ctx.arg(3), m.valueSize);
    return m.storageGet(ctx.arg(2), init, ctx.arg(4));
  };
  const storageDelete = (helper: HelperName): NativeFn => (ctx) => storageMap(ctx, helper).storageDelete(ctx.arg(2));

  /** __bpf_get_stack's clear path: the buffer zeroed, the errno. */
  const clearStack = (ctx: CallContext, size: number, err: number): number => {
    if (size > 0) kernel.writeOrFail(ctx.index, ctx.arg(2), new Uint8Array(size));
    return err;
  };

  return {
    // kernel/bpf/ringbuf.c bpf_user_ringbuf_drain (spec §2.14): each sample goes to the callback
    // as a LOCAL dynptr; the callback's non-zero return stops the drain after that sample.
    user_ringbuf_drain: (ctx) => {
      const m = mapArg(ctx, 1, 'user_ringbuf_drain', (x): x is UserRingBufMap => x instanceof UserRingBufMap);
      const fn = ctx.arg(2), cbCtx = ctx.arg(3);
      const slot = kernel.memory.map(`dynptr of bpf_user_ringbuf_drain(${m.name})`, new Uint8Array(DYNPTR_BYTES), true);
      try {
        const address = AddressSpace.address(slot);
        const r = m.drain(ctx.arg(4), (sample, len) => {
          writeDynptr(ctx, address, sample, len, BPF_DYNPTR_TYPE_LOCAL);
          return ctx.callFunction(fn, [address, cbCtx]);
        });
        return r.ret;
      } finally {
        kernel.memory.unmap(slot);
      }
    },
    // kernel/bpf/helpers.c bpf_dynptr_from_mem: size over DYNPTR_MAX_SIZE → E2BIG, flags → EINVAL;
    // on error the dynptr is set to NULL (all zero).
    dynptr_from_mem: (ctx) => {
      const size = ctx.arg(2), flags = ctx.arg(3), ptr = ctx.arg(4);
      const err = size > BigInt(DYNPTR_MAX_SIZE) ? -E2BIG : flags !== 0n ? -EINVAL : 0;
      if (err) { kernel.writeOrFail(ctx.index, ptr, new Uint8Array(DYNPTR_BYTES)); return err; }
      writeDynptr(ctx, ptr, ctx.arg(1), Number(size), BPF_DYNPTR_TYPE_LOCAL);
      return 0;
    },
    dynptr_read: (ctx) => {
      const len = ctx.arg(2), d = readDynptr(ctx, ctx.arg(3)), off = ctx.arg(4);
      if (d.data === 0n || ctx.arg(5) !== 0n) return -EINVAL;
      if (!offLenOk(d, off, len)) return -E2BIG;
      if (d.type !== BPF_DYNPTR_TYPE_LOCAL) return -EFAULT;
      const n = Number(len);
      if (n > 0) kernel.writeOrFail(ctx.index, ctx.arg(1), kernel.readOrFail(ctx.index, d.data + BigInt(d.offset) + off, n));
      return 0;
    },
    dynptr_write: (ctx) => {
      const d = readDynptr(ctx, ctx.arg(1)), off = ctx.arg(2), len = ctx.arg(4);
      if (d.data === 0n || d.rdonly) return -EINVAL;
      if (!offLenOk(d, off, len)) return -E2BIG;
      if (d.type !== BPF_DYNPTR_TYPE_LOCAL) return -EFAULT;
      if (ctx.arg(5) !== 0n) return -EINVAL;
      const n = Number(len);
      if (n > 0) kernel.writeOrFail(ctx.index, d.data + BigInt(d.offset) + off, kernel.readOrFail(ctx.index, ctx.arg(3), n));
      return 0;
    },
    dynptr_data: (ctx) => {
      const d = readDynptr(ctx, ctx.arg(1)), off = ctx.arg(2), len = ctx.arg(3);
      if (d.data === 0n || !offLenOk(d, off, len) || d.rdonly || d.type !== BPF_DYNPTR_TYPE_LOCAL) return 0;
      return d.data + BigInt(d.offset) + off;
    },

    sk_storage_get: storageGet('sk_storage_get'),
    sk_storage_delete: storageDelete('sk_storage_delete'),
    task_storage_get: storageGet('task_storage_get'),
    task_storage_delete: storageDelete('task_storage_delete'),
    inode_storage_get: storageGet('inode_storage_get'),
    inode_storage_delete: storageDelete('inode_storage_delete'),
    cgrp_storage_get: storageGet('cgrp_storage_get'),
    cgrp_storage_delete: storageDelete('cgrp_storage_delete'),

    // bpf_get_local_storage (spec §2.13): the test run's storage; flags must be 0 (the verifier).
    get_local_storage: (ctx) => {
      const m = mapArg(ctx, 1, 'get_local_storage', (x): x is CgroupStorageMap => x instanceof CgroupStorageMap);
      if (ctx.arg(2) !== 0n) throw new RuntimeError(ctx.index, "get_local_storage() doesn't support non-zero flags");
      return m.localStorage(kernel.runContext ?? kernel, kernel.cpu);
    },

    // kernel/trace/bpf_trace.c, net/core/filter.c (spec §2.11): the task and the sockets are in
    // the root cgroup.
    current_task_under_cgroup: (ctx) =>
      mapArg(ctx, 1, 'current_task_under_cgroup', (x): x is CgroupArrayMap => x instanceof CgroupArrayMap).underCgroup(ctx.argLo(2) >>> 0),
    skb_under_cgroup: (ctx) => {
      const m = mapArg(ctx, 2, 'skb_under_cgroup', (x): x is CgroupArrayMap => x instanceof CgroupArrayMap);
      const skb = kernel.runContext;
      if (!(skb instanceof SkBuff) || !skb.sock) return -ENOENT;
      return m.underCgroup(ctx.argLo(3) >>> 0);
    },
    // kernel/bpf/stackmap.c (spec §2.10).
    get_stackid: (ctx) => {
      const m = mapArg(ctx, 2, 'get_stackid', (x): x is StackTraceMap => x instanceof StackTraceMap);
      const flags = ctx.arg(3);
      const chain = flags & BigInt(BPF_F_USER_STACK) ? [] : bpfCallChain(ctx);
      return m.getStackId(chain, flags);
    },
    get_stack: (ctx) => {
      const size = ctx.argLo(3) >>> 0, flags = ctx.arg(4);
      const known = BigInt(BPF_F_SKIP_FIELD_MASK | BPF_F_USER_STACK | BPF_F_USER_BUILD_ID);
      if ((flags & ~known) !== 0n) return clearStack(ctx, size, -EINVAL);
      const f = Number(flags);
      const user = (f & BPF_F_USER_STACK) !== 0, buildId = (f & BPF_F_USER_BUILD_ID) !== 0;
      if (!user && buildId) return clearStack(ctx, size, -EINVAL);
      const elem = buildId ? 32 : 8;
      if (size % elem !== 0) return clearStack(ctx, size, -EINVAL);
      const skip = f & BPF_F_SKIP_FIELD_MASK;
      const trace = (user ? [] : bpfCallChain(ctx)).slice(0, stackMaxDepth(size, elem, f));
      if (trace.length < skip) return clearStack(ctx, size, -EFAULT);
      const ips = trace.slice(skip);
      const out = new Uint8Array(size);
      const v = new DataView(out.buffer);
      ips.forEach((ip, k) => {
        if (elem === 8) v.setBigUint64(8 * k, ip, true);
        else { v.setInt32(32 * k, 2, true); v.setBigUint64(32 * k + 24, ip, true); } // BPF_STACK_BUILD_ID_IP
      });
      if (size > 0) kernel.writeOrFail(ctx.index, ctx.arg(2), out);
      return ips.length * elem;
    },
  };
}

/** The kfuncs of LOCAL dynptrs: bpf_dynptr_size, bpf_dynptr_is_rdonly (kernel/bpf/helpers.c). */
export function createDynptrKfuncs(kernel: SimKernel): [string, NativeFn][] {
  const header = (ctx: CallContext) => {
    const b = kernel.readOrFail(ctx.index, ctx.arg(1), DYNPTR_BYTES);
    const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
    return { data: v.getBigUint64(0, true), size: v.getUint32(8, true) };
  };
  return [
    ['bpf_dynptr_size', (ctx) => { const d = header(ctx); return d.data === 0n ? -EINVAL : d.size & DYNPTR_SIZE_MASK; }],
    ['bpf_dynptr_is_rdonly', (ctx) => { const d = header(ctx); return d.data !== 0n && (d.size & DYNPTR_RDONLY_BIT) !== 0 ? 1 : 0; }],
  ];
}
