/**
 * BPF helpers (by id) and the built-in kfuncs (by name), as closures over one SimKernel.
 * Return values and error codes are the kernel's (kernel/bpf/helpers.c, kernel/trace/bpf_trace.c,
 * kernel/bpf/ringbuf.c, kernel/bpf/bpf_iter.c); each function names its kernel source.
 */
import { kptrXchg } from './graph.js';
import { USER_SPACE } from '../addresses.js';
import type { AddressSpace } from '../memory.js';
import { RuntimeError } from '../errors.js';
import { BPF_MAX_LOOPS } from '../isa/opcodes.js';
import { SimKernel } from '../kernel/kernel.js';
import type { BpfMap } from '../maps/base.js';
import { ArenaMap } from '../maps/arena.js';
import { ProgArrayMap } from '../maps/progarray.js';
import { RingBufMap } from '../maps/ringbuf.js';
import { out, toU64 } from '../int64.js';
import { CallContext, DirectFn, HelperDef, NativeFn } from '../runtime.js';
import { hex, latin1Bytes, latin1Text } from '../text.js';
import { BPF_FUNC, E2BIG, EFAULT, EINVAL, ENOENT, ERANGE, type HelperName } from '../uapi.js';
import { createFibHelpers } from './fib.js';
import { createLockHelpers } from './locks.js';
import { createTimerHelpers, TIMER_CALLBACK_ARGS } from './timers.js';
import { createMapHelpers } from './map-helpers.js';
import { createNetExtraHelpers } from './net-extra.js';
import { createPacketHelpers } from './packet.js';
import { createPerfHelpers } from './perf.js';
import { createStrtoxHelpers } from './strtox.js';
import { createDynptrKfuncs, createStorageHelpers, STORAGE_CALLBACK_ARGS } from './storage.js';
import { bpfFormat, memoryFormat } from './printf.js';

/**
 * x86-64 copy_from_kernel_nofault_allowed(): addresses below TASK_SIZE_MAX + PAGE_SIZE (user
 * space, NULL included) are refused with -ERANGE before any read is tried.
 */
function isUserAddress(address: bigint): boolean {
  return address < USER_SPACE.end;
}

/** A probe read's source: the bytes, or a negative errno. */
type ProbeSource = (address: bigint, len: number) => Uint8Array | number;

/** x86-64 TASK_SIZE (TASK_SIZE_MAX): the compat probe reads' split between user and kernel. */
const TASK_SIZE = 0x7ffffffff000n;
const PAGE_MASK = 0xfffn;

/** BITS_ITER_NR_WORDS_MAX: what bpf_mem_alloc can give (4096 bytes less its 8-byte header). */
const BITS_ITER_NR_WORDS_MAX = 511;

/** copy_from_kernel_nofault: the bytes, -ERANGE for a user address, -EFAULT when unmapped. */
function readKernelNofault(mem: AddressSpace, address: bigint, len: number): Uint8Array | number {
  return isUserAddress(address) ? -ERANGE : mem.read(address, len) ?? -EFAULT;
}

/** Most varargs bpf_trace_vprintk / bpf_snprintf accept (MAX_BPRINTF_VARARGS). */
const MAX_BPRINTF_VARARGS = 12;

/** The helpers' ARG_PTR_TO_FUNC arguments (bpf_loop's and bpf_for_each_map_elem's callback_fn). */
const CALLBACK_ARGS: Readonly<Partial<Record<HelperName, readonly number[]>>> = { loop: [2], for_each_map_elem: [2], ...TIMER_CALLBACK_ARGS, ...STORAGE_CALLBACK_ARGS };

/**
 * bpf_loop where the verifier inlines it (kernel/bpf/fixups.c inline_bpf_loop; spec maps §6.5):
 * at the call sites in `inlined` (flags the constant 0), R1's 64 bits are the count, more than
 * BPF_MAX_LOOPS gives -E2BIG as a 32-bit move (0x00000000fffffff9), and flags are not looked
 * at. Other call sites keep the helper.
 */
export function withInlinedLoop(helper: HelperDef, inlined: ReadonlySet<number>): HelperDef {
  return {
    name: helper.name,
    callbackArgs: helper.callbackArgs,
    fn: (ctx) => {
      if (!inlined.has(ctx.index)) return helper.fn(ctx);
      const lo = ctx.argLo(1) >>> 0;
      if (ctx.argHi(1) !== 0 || lo > BPF_MAX_LOOPS) return 0xfffffff9;
      const fn = ctx.arg(2), data = ctx.arg(3);
      for (let i = 0; i < lo; i++) {
        if (ctx.callFunction(fn, [BigInt(i), data]) !== 0n) return i + 1;
      }
      return lo;
    },
  };
}

/** All helpers we implement, keyed by id, bound to `kernel`. */
export function createHelpers(kernel: SimKernel): Map<number, HelperDef> {
  const mem = kernel.memory;
  const map = (ctx: CallContext, n: number): BpfMap => {
    const m = kernel.mapAt(ctx.argLo(n), ctx.argHi(n));
    if (!m) throw new RuntimeError(ctx.index, `argument ${n} (${hex(ctx.arg(n))}) is not a map`);
    return m;
  };
  const formatMemory = memoryFormat(mem);
  /** The format string: `size` bytes that must contain a NUL (bpf_bprintf_prepare's strnchr). */
  const formatString = (ctx: CallContext, address: bigint, size: number): string | undefined => {
    const s = mem.readString(address, size);
    if (!s) throw new RuntimeError(ctx.index, `format string at ${hex(address)} is not readable`);
    return s.terminated ? latin1Text(s.bytes) : undefined;
  };
  /**
   * The probe reads' sources: `len` bytes at `address`, or the errno. The kernel side refuses
   * user addresses with ERANGE; the user side is the arenas' user mappings, where only present
   * pages can be read (page faults are disabled: a missing page is EFAULT, never faulted in),
   * and a kernel address fails access_ok with EFAULT.
   */
  const kernelRead: ProbeSource = (address, len) => readKernelNofault(mem, address, len);
  const userRead: ProbeSource = (address, len) => {
    if (!isUserAddress(address)) return -EFAULT;
    const out = new Uint8Array(len);
    for (let done = 0; done < len;) {
      const at = address + BigInt(done);
      const page = presentUserPage(at);
      if (!page) return -EFAULT;
      const inPage = Number(at & PAGE_MASK);
      const n = Math.min(len - done, page.length - inPage);
      out.set(page.subarray(inPage, inPage + n), done);
      done += n;
    }
    return out;
  };
  const presentUserPage = (address: bigint): Uint8Array | undefined => {
    for (const m of kernel.allMaps()) {
      const page = m instanceof ArenaMap ? m.presentUserPage(address) : undefined;
      if (page) return page;
    }
    return undefined;
  };
  /** bpf_probe_read_*: `size` bytes to arg 1, 0; on failure arg 1 zero-filled and the errno. */
  const probeRead = (ctx: CallContext, source: ProbeSource): number => {
    const size = u32(ctx, 2);
    const bytes = source(ctx.arg(3), size);
    kernel.writeOrFail(ctx.index, ctx.arg(1), typeof bytes === 'number' ? new Uint8Array(size) : bytes);
    return typeof bytes === 'number' ? bytes : 0;
  };
  /**
   * bpf_probe_read_*_str: up to the NUL, at most size - 1 bytes plus a NUL; returns the length
   * with the NUL (size when truncated), 0 for size 0; on failure the errno, arg 1 zero-filled.
   * Bytes after the NUL are not written.
   */
  const probeReadStr = (ctx: CallContext, source: ProbeSource): number => {
    const size = u32(ctx, 2);
    if (size === 0) return 0;
    const src = ctx.arg(3);
    const out: number[] = [];
    for (; out.length < size - 1; ) {
      const b = source(src + BigInt(out.length), 1);
      if (typeof b === 'number') {
        kernel.writeOrFail(ctx.index, ctx.arg(1), new Uint8Array(size));
        return b;
      }
      if (b[0] === 0) break;
      out.push(b[0]);
    }
    out.push(0);
    kernel.writeOrFail(ctx.index, ctx.arg(1), Uint8Array.from(out));
    return out.length;
  };
  /** u64 arguments of the varargs helpers: `len` bytes at `address`, a multiple of 8. */
  const varargs = (ctx: CallContext, address: bigint, len: number): bigint[] | number => {
    if (len % 8 !== 0 || len > MAX_BPRINTF_VARARGS * 8 || (len !== 0 && address === 0n)) return -EINVAL;
    const bytes = len === 0 ? new Uint8Array(0) : kernel.readOrFail(ctx.index, address, len);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return Array.from({ length: len / 8 }, (_, k) => view.getBigUint64(8 * k, true));
  };
  const u32 = (ctx: CallContext, n: number) => ctx.argLo(n) >>> 0;
  const perCpu = (ctx: CallContext, cpu: number): bigint => {
    const p = kernel.objects.perCpuPtr(ctx.arg(1), cpu);
    if (p === undefined) throw new RuntimeError(ctx.index, `argument 1 (${hex(ctx.arg(1))}) is not a per-CPU pointer`);
    return p;
  };

  // kernel/bpf/helpers.c: the map helpers copy the key (and value) the program points to. They,
  // the clocks and the current task's ids are the hottest helpers, so each is a DirectFn: it
  // reads its arguments' int32 halves from `a` (r_n at a[2n], a[2n + 1]) and writes r0's to a[0],
  // a[1]. The engines run it on their registers (HelperDef.direct); `fn` runs it on a copy of the
  // context's halves.
  const mapIn = (index: number, lo: number, hi: number): BpfMap => {
    const m = kernel.mapAt(lo, hi);
    if (!m) throw new RuntimeError(index, `argument 1 (${hex(toU64(lo, hi))}) is not a map`);
    return m;
  };
  /** A lookup at the key (lo, hi): r0 = the value's address, or NULL. */
  const lookupInto = (a: Int32Array, index: number, m: BpfMap, lo: number, hi: number, cpu: number): void => {
    const r = kernel.regionOrFail(index, lo, hi, m.spec.keySize);
    a[0] = m.lookupElemAt(r.bytes, (lo >>> 0) - r.start, cpu);
    a[1] = out.hi;
  };
  /** r0 = 0 or -errno, sign-extended. */
  const errnoInto = (a: Int32Array, r: number): void => {
    a[0] = r;
    a[1] = r >> 31;
  };
  const directCalls: Partial<Record<HelperName, DirectFn>> = {
    map_lookup_elem: (a, index) => lookupInto(a, index, mapIn(index, a[2], a[3]), a[4], a[5], kernel.cpu),
    map_update_elem: (a, index) => {
      const m = mapIn(index, a[2], a[3]);
      const key = kernel.copyOrFail(index, a[4], a[5], m.spec.keySize);
      const value = kernel.copyOrFail(index, a[6], a[7], m.spec.valueSize);
      errnoInto(a, m.updateElemFromProgram(key, value, (a[9] >>> 0) * 4294967296 + (a[8] >>> 0), kernel.cpu));
    },
    map_delete_elem: (a, index) => {
      const m = mapIn(index, a[2], a[3]);
      errnoInto(a, m.deleteElem(kernel.copyOrFail(index, a[4], a[5], m.spec.keySize)));
    },
    map_lookup_percpu_elem: (a, index) => {
      const m = mapIn(index, a[2], a[3]);
      const cpu = a[6] >>> 0;
      if (cpu >= kernel.nrCpus) errnoInto(a, 0);
      else lookupInto(a, index, m, a[4], a[5], cpu);
    },
    // The clocks: one simulated clock (SimKernel.ktimeNs), read as often as the map helpers.
    ktime_get_ns: (a) => kernel.ktimeInto(a),
    ktime_get_boot_ns: (a) => kernel.ktimeInto(a),
    ktime_get_coarse_ns: (a) => kernel.ktimeInto(a),
    ktime_get_tai_ns: (a) => kernel.ktimeInto(a),
    // (tgid << 32) | pid, both u32s (resolveTask checks them).
    get_current_pid_tgid: (a) => { const t = kernel.task(); a[0] = t.pid; a[1] = t.tgid; },
  };

  const defs: Partial<Record<HelperName, NativeFn>> = {
    get_prandom_u32: () => kernel.prandomU32(),
    get_smp_processor_id: () => kernel.cpu,
    // The simulated current task's struct (./kernel/objects.ts): its pid, tgid, comm and cred
    // are what the helpers above return.
    get_current_task: () => kernel.currentTaskAddress(),
    get_current_task_btf: () => kernel.currentTaskAddress(),
    // kernel/bpf/helpers.c: a per-CPU variable's copy on this CPU / on `cpu` (NULL past nr_cpu_ids).
    this_cpu_ptr: (ctx) => perCpu(ctx, kernel.cpu),
    per_cpu_ptr: (ctx) => (u32(ctx, 2) >= kernel.nrCpus ? 0 : perCpu(ctx, u32(ctx, 2))),
    // kernel/trace/bpf_trace.c bpf_trace_printk: at most 3 arguments; returns the length written.
    trace_printk: (ctx) => {
      const fmt = formatString(ctx, ctx.arg(1), u32(ctx, 2));
      if (fmt === undefined) return -EINVAL;
      const text = bpfFormat(fmt, [ctx.arg(3), ctx.arg(4), ctx.arg(5)], formatMemory);
      if (typeof text === 'number') return text;
      kernel.trace.push(text);
      return text.length;
    },
    trace_vprintk: (ctx) => {
      const args = varargs(ctx, ctx.arg(3), u32(ctx, 4));
      if (typeof args === 'number') return args;
      const fmt = formatString(ctx, ctx.arg(1), u32(ctx, 2));
      if (fmt === undefined) return -EINVAL;
      const text = bpfFormat(fmt, args, formatMemory);
      if (typeof text === 'number') return text;
      kernel.trace.push(text);
      return text.length;
    },
    // kernel/bpf/helpers.c bpf_snprintf: writes at most str_size bytes with a NUL; returns the
    // length the whole output needs, NUL included.
    snprintf: (ctx) => {
      const size = u32(ctx, 2);
      const args = varargs(ctx, ctx.arg(4), u32(ctx, 5));
      if (typeof args === 'number') return args;
      const fmt = formatString(ctx, ctx.arg(3), 0x7fffffff);
      if (fmt === undefined) return -EINVAL;
      const text = bpfFormat(fmt, args, formatMemory);
      if (typeof text === 'number') return text;
      if (size > 0) {
        const bytes = new Uint8Array(Math.min(text.length, size - 1) + 1); // the text, then a NUL
        bytes.set(latin1Bytes(text.slice(0, size - 1)));
        kernel.writeOrFail(ctx.index, ctx.arg(1), bytes);
      }
      return text.length + 1;
    },
    // mm/maccess.c via bpf_probe_read_kernel_common: on failure the destination is zeroed.
    probe_read_kernel: (ctx) => probeRead(ctx, kernelRead),
    // strncpy_from_kernel_nofault: copies up to size-1 bytes plus a NUL; returns the length
    // with the NUL, or an error with the destination zeroed.
    probe_read_kernel_str: (ctx) => probeReadStr(ctx, kernelRead),
    // kernel/trace/bpf_trace.c bpf_probe_read_user(_str): copy_from_user_nofault and
    // strncpy_from_user_nofault, with the kernel variants' conventions.
    probe_read_user: (ctx) => probeRead(ctx, userRead),
    probe_read_user_str: (ctx) => probeReadStr(ctx, userRead),
    // bpf_probe_read_compat(_str): below TASK_SIZE the user variant, else the kernel one.
    probe_read: (ctx) => probeRead(ctx, ctx.arg(3) < TASK_SIZE ? userRead : kernelRead),
    probe_read_str: (ctx) => probeReadStr(ctx, ctx.arg(3) < TASK_SIZE ? userRead : kernelRead),
    // kernel/bpf/helpers.c bpf_strncmp: the kernel's strncmp returns -1, 0 or 1.
    kptr_xchg: kptrXchg,
    strncmp: (ctx) => {
      const n = u32(ctx, 2);
      const a = mem.readString(ctx.arg(1), n);
      const b = mem.readString(ctx.arg(3), n);
      if (!a || !b) throw new RuntimeError(ctx.index, 'bpf_strncmp: string not readable');
      for (let k = 0; k < n; k++) {
        const ca = a.bytes[k] ?? 0, cb = b.bytes[k] ?? 0;
        if (ca !== cb) return ca < cb ? -1 : 1;
        if (ca === 0) break;
      }
      return 0;
    },
    // kernel/bpf/bpf_iter.c bpf_loop: stops when the callback returns non-zero; returns the
    // number of iterations run.
    loop: (ctx) => {
      const nr = u32(ctx, 1);
      if (ctx.arg(4) !== 0n) return -EINVAL;
      if (nr > BPF_MAX_LOOPS) return -E2BIG;
      const fn = ctx.arg(2), data = ctx.arg(3);
      for (let i = 0; i < nr; i++) {
        if (ctx.callFunction(fn, [BigInt(i), data]) !== 0n) return i + 1;
      }
      return nr;
    },
    // kernel/bpf/core.c: a tail call that cannot happen falls through (we return -ENOENT).
    tail_call: (ctx) => {
      const m = map(ctx, 2);
      if (!(m instanceof ProgArrayMap)) throw new RuntimeError(ctx.index, `bpf_tail_call: map '${m.spec.name}' is not a PROG_ARRAY`);
      const target = m.get(u32(ctx, 3));
      if (target === undefined) return -ENOENT;
      return ctx.tailCall(target) ? 0 : -ENOENT;
    },
    // kernel/bpf/ringbuf.c
    ringbuf_reserve: (ctx) => ringbuf(ctx, 1).reserve(u32(ctx, 2), ctx.arg(3)),
    // The verifier only lets a program submit/discard its own open reservation; anything else
    // is the program's bug here.
    ringbuf_submit: (ctx) => { sampleDone(ctx, ringbufOf(ctx, ctx.arg(1)).submit(ctx.arg(1), ctx.arg(2)), 'submit'); },
    ringbuf_discard: (ctx) => { sampleDone(ctx, ringbufOf(ctx, ctx.arg(1)).discard(ctx.arg(1), ctx.arg(2)), 'discard'); },
    ringbuf_output: (ctx) => {
      const size = u32(ctx, 3);
      return ringbuf(ctx, 1).output(kernel.readOrFail(ctx.index, ctx.arg(2), size), ctx.arg(4));
    },
    ringbuf_query: (ctx) => ringbuf(ctx, 1).query(ctx.arg(2)),
    // The packet helpers (net/core/filter.c): ./packet.ts
    ...createPacketHelpers(kernel),
    ...createFibHelpers(kernel), // spec §4.7: ./fib.ts
    ...createStrtoxHelpers(kernel), // bpf_strtol, bpf_strtoul: ./strtox.ts
    // bpf_perf_event_output: ./perf.ts
    ...createPerfHelpers(kernel),
    ...createLockHelpers(kernel), ...createTimerHelpers(kernel), // spin_lock, timer_*: ./locks.ts, ./timers.ts (spec §6.1, §6.3)
    ...createMapHelpers(kernel), // map_push_elem, map_pop_elem, map_peek_elem: ./map-helpers.ts
    ...createStorageHelpers(kernel), // user_ringbuf_drain, dynptrs, local/cgroup storages, stacks: ./storage.ts
    ...createNetExtraHelpers(kernel), // check_mtu, ecn_set_ce, cookies, sk lookups, for_each_map_elem: ./net-extra.ts
  };

  const ringbuf = (ctx: CallContext, n: number): RingBufMap => {
    const m = map(ctx, n);
    if (!(m instanceof RingBufMap)) throw new RuntimeError(ctx.index, `map '${m.spec.name}' is not a RINGBUF`);
    return m;
  };
  /** The ring buffer a reserved sample belongs to (the kernel finds it from the record header). */
  const ringbufOf = (ctx: CallContext, sample: bigint): RingBufMap => {
    for (const m of kernel.allMaps()) if (m instanceof RingBufMap && m.owns(sample)) return m;
    throw new RuntimeError(ctx.index, `${hex(sample)} is not a ring buffer sample`);
  };

  const sampleDone = (ctx: CallContext, result: number, what: string): void => {
    if (result < 0) throw new RuntimeError(ctx.index, `bpf_ringbuf_${what}: ${hex(ctx.arg(1))} is not an open reservation`);
  };

  // The direct calls that only read their arguments' memory (HelperDef.neutral): not the updates.
  const NEUTRAL: ReadonlySet<HelperName> = new Set(Object.keys(directCalls).filter((n) => n !== 'map_update_elem' && n !== 'map_delete_elem') as HelperName[]);

  // The direct calls' `fn`: the context's halves in a scratch array, r0 read back from it.
  const scratch = new Int32Array(12);
  for (const [name, call] of Object.entries(directCalls) as [HelperName, DirectFn][]) {
    defs[name] = (ctx) => {
      for (let n = 1; n <= 5; n++) { scratch[2 * n] = ctx.argLo(n); scratch[2 * n + 1] = ctx.argHi(n); }
      call(scratch, ctx.index);
      return toU64(scratch[0], scratch[1]);
    };
  }

  // By id, in id order.
  const implemented = (Object.entries(defs) as [HelperName, NativeFn][]).sort(([a], [b]) => BPF_FUNC[a] - BPF_FUNC[b]);
  return new Map(implemented.map(([name, fn]): [number, HelperDef] => {
    const call = directCalls[name];
    const def = { name: `bpf_${name}`, fn, callbackArgs: CALLBACK_ARGS[name] };
    return [BPF_FUNC[name], call === undefined ? def : { ...def, direct: call, neutral: NEUTRAL.has(name) }];
  }));
}

/** The kfuncs every object gets, by name. kernel/bpf/bpf_iter.c (open-coded iterators). */
export function createKfuncs(kernel: SimKernel): Map<string, NativeFn> {
  // struct bpf_iter_num_kern { int cur; int end; } lives in the program's 8-byte iterator.
  const mem = kernel.memory;
  /** The program's iterator of `size` bytes at argument 1. */
  const iterAt = (ctx: CallContext, size: number) => {
    const address = ctx.arg(1);
    const at = mem.locate(address, size);
    if (!at || !at.region.writable) throw new RuntimeError(ctx.index, `iterator at ${hex(address)} is not writable memory`);
    return { view: at.region.view, off: at.offset, address };
  };
  const iter = (ctx: CallContext) => iterAt(ctx, 8);
  /** The bits of bits iterators over more than 64 bits, by iterator address. */
  const bitsCopies = new Map<bigint, Uint8Array>();
  return new Map<string, NativeFn>([
    ['bpf_iter_num_new', (ctx) => {
      const { view, off } = iter(ctx);
      const start = ctx.argLo(2), end = ctx.argLo(3);
      const set = (cur: number, last: number) => { view.setInt32(off, cur, true); view.setInt32(off + 4, last, true); };
      if (start > end) { set(0, 0); return -EINVAL; }
      if (end - start > BPF_MAX_LOOPS) { set(0, 0); return -E2BIG; }
      set((start - 1) | 0, end);
      return 0;
    }],
    ['bpf_iter_num_next', (ctx) => {
      const { view, off, address } = iter(ctx);
      const cur = view.getInt32(off, true), end = view.getInt32(off + 4, true);
      if (cur + 1 >= end) { view.setInt32(off, 0, true); view.setInt32(off + 4, 0, true); return 0; }
      view.setInt32(off, cur + 1, true);
      return address; // &s->cur
    }],
    ['bpf_iter_num_destroy', (ctx) => {
      const { view, off } = iter(ctx);
      view.setInt32(off, 0, true);
      view.setInt32(off + 4, 0, true);
    }],
    // kernel/bpf/helpers.c bpf_iter_bits_*: struct bpf_iter_bits_kern { u64 bits_copy or *bits;
    // int nr_bits; int bit; } in the program's 16-byte iterator. More than 64 bits are copied to
    // memory the kernel allocates; bpfrun keeps that copy beside the iterator (`bitsCopies`).
    ['bpf_iter_bits_new', (ctx) => {
      const { view, off, address } = iterAt(ctx, 16);
      const words = ctx.argLo(3) >>> 0;
      view.setBigUint64(off, 0n, true);
      view.setInt32(off + 8, 0, true);
      view.setInt32(off + 12, -1, true);
      bitsCopies.delete(address);
      const src = ctx.arg(2);
      if (src === 0n || words === 0) return -EINVAL;
      if (words > BITS_ITER_NR_WORDS_MAX) return -E2BIG;
      // bpf_probe_read_kernel_common: its errno, which the one-word path turns into -EFAULT.
      const bytes = readKernelNofault(mem, src, words * 8);
      if (typeof bytes === 'number') return words === 1 ? -EFAULT : bytes;
      if (words === 1) view.setBigUint64(off, new DataView(bytes.buffer).getBigUint64(0, true), true);
      else bitsCopies.set(address, bytes);
      view.setInt32(off + 8, words * 64, true);
      return 0;
    }],
    ['bpf_iter_bits_next', (ctx) => {
      const { view, off, address } = iterAt(ctx, 16);
      const nrBits = view.getInt32(off + 8, true);
      let bit = view.getInt32(off + 12, true);
      if (nrBits === 0 || bit >= nrBits) return 0;
      const bytes = nrBits === 64 ? new Uint8Array(view.buffer, view.byteOffset + off, 8) : bitsCopies.get(address);
      if (bytes === undefined) throw new RuntimeError(ctx.index, `bpf_iter_bits_next: iterator at ${hex(address)} was not made by bpf_iter_bits_new`);
      // find_next_bit over little-endian u64 words: bit k is bit (k & 7) of byte k >> 3.
      for (bit++; bit < nrBits && ((bytes[bit >> 3] >> (bit & 7)) & 1) === 0; bit++);
      view.setInt32(off + 12, Math.min(bit, nrBits), true);
      return bit >= nrBits ? 0 : address + 12n; // &kit->bit
    }],
    // kernel/bpf/helpers.c bpf_throw: unwinds every frame to the exception callback; the default
    // one (kernel/bpf/fixups.c) returns the cookie, so the program ends with r0 = cookie.
    // Programs naming their own callback are refused at load (verifier.ts checkExceptionCallback).
    ['bpf_throw', (ctx) => {
      ctx.stop();
      return ctx.arg(1);
    }],
    ['bpf_iter_bits_destroy', (ctx) => {
      bitsCopies.delete(iterAt(ctx, 16).address);
    }],
    ...createDynptrKfuncs(kernel), // bpf_dynptr_size, bpf_dynptr_is_rdonly: ./storage.ts
  ]);
}
