// The map implementations against the kernel's rules: creation checks, program-side and
// host-side operations with their errnos, layouts seen through simulated memory.
import assert from 'node:assert/strict';
import { MapError } from '../src/errors.js';
import { AddressSpace } from '../src/memory.js';
import { ArenaMap } from '../src/maps/arena.js';
import { ArrayMap } from '../src/maps/array.js';
import { HashMap } from '../src/maps/hash.js';
import { createMap } from '../src/maps/map.js';
import { ProgArrayMap } from '../src/maps/progarray.js';
import { RingBufMap } from '../src/maps/ringbuf.js';
import type { MapSpec } from '../src/maps/types.js';
import {
  BPF_ANY, BPF_EXIST, BPF_F_LOCK, BPF_F_MMAPABLE, BPF_F_NO_COMMON_LRU, BPF_F_NO_PREALLOC, BPF_F_NO_USER_CONV,
  BPF_F_NUMA_NODE, BPF_F_PRESERVE_ELEMS, BPF_F_RDONLY, BPF_F_RDONLY_PROG, BPF_F_SEGV_ON_FAULT, BPF_F_TOKEN_FD,
  BPF_F_WRONLY, BPF_F_WRONLY_PROG, BPF_F_ZERO_SEED, BPF_MAP_TYPE_ARENA, BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_HASH,
  BPF_MAP_TYPE_LRU_HASH, BPF_MAP_TYPE_LRU_PERCPU_HASH, BPF_MAP_TYPE_PERCPU_ARRAY, BPF_MAP_TYPE_PERCPU_HASH,
  BPF_MAP_TYPE_PROG_ARRAY, BPF_MAP_TYPE_RINGBUF, BPF_MAP_TYPE_STRUCT_OPS, BPF_NOEXIST, BPF_RB_AVAIL_DATA,
  BPF_RB_CONS_POS, BPF_RB_FORCE_WAKEUP, BPF_RB_NO_WAKEUP, BPF_RB_PROD_POS, BPF_RB_RING_SIZE, E2BIG, EAGAIN,
  EEXIST, EINVAL, ENOENT, ENOTSUPP, EOPNOTSUPP, EPERM, errnoName, mapTypeName,
} from '../src/uapi.js';

const NR_CPUS = 3;

function spec(over: Partial<MapSpec>): MapSpec {
  return { name: 'm', type: BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 8, maxEntries: 4, flags: 0, mapExtra: 0n, ...over };
}

function make<T>(over: Partial<MapSpec>, memory = new AddressSpace(), nrCpus = NR_CPUS): T {
  return createMap(spec(over), memory, { nrCpus }) as T;
}

const u32 = (n: number) => { const b = new Uint8Array(4); new DataView(b.buffer).setUint32(0, n, true); return b; };
const u64 = (n: bigint) => { const b = new Uint8Array(8); new DataView(b.buffer).setBigUint64(0, n, true); return b; };
const asU64 = (b: Uint8Array, off = 0) => new DataView(b.buffer, b.byteOffset, b.byteLength).getBigUint64(off, true);
const asU32 = (b: Uint8Array, off = 0) => new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(off, true);

/** A program's 8-byte load through a simulated address. */
function load64(memory: AddressSpace, addr: bigint): bigint {
  const at = memory.locate(addr, 8);
  assert.ok(at, `0x${addr.toString(16)} is not mapped`);
  return at.region.view.getBigUint64(at.offset, true);
}

/** A program's 8-byte store, honouring region permissions as the engines do. */
function store64(memory: AddressSpace, addr: bigint, v: bigint): void {
  const at = memory.locate(addr, 8);
  assert.ok(at, `0x${addr.toString(16)} is not mapped`);
  assert.ok(at.region.writable, `0x${addr.toString(16)} is read-only`);
  at.region.view.setBigUint64(at.offset, v, true);
}

function throwsMapError(fn: () => unknown, errno: string, pattern?: RegExp, map = 'm'): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof MapError, `expected MapError, got ${String(e)}`);
    assert.equal(e.errno, errno, e.message);
    assert.equal(e.map, map);
    if (pattern) assert.match(e.message, pattern);
    return true;
  });
}

describe('maps', () => {
  describe('creation (map_create + alloc_check)', () => {
    const rejects = (over: Partial<MapSpec>, errno: string, pattern?: RegExp) =>
      throwsMapError(() => make(over), errno, pattern);

    it('applies map_create checks common to all types', () => {
      rejects({ mapExtra: 1n }, 'EINVAL', /map_extra must be 0/);
      rejects({ flags: BPF_F_RDONLY | BPF_F_WRONLY }, 'EINVAL', /exclusive/);
      rejects({ flags: BPF_F_NUMA_NODE, numaNode: 1 }, 'EINVAL', /numa_node 1/);
      rejects({ type: 0 }, 'EINVAL', /unknown map type 0/);
      rejects({ type: 99 }, 'EINVAL', /unknown map type 99/);
      rejects({ type: BPF_MAP_TYPE_STRUCT_OPS, keySize: 4 }, 'EOPNOTSUPP', /struct_ops.*not implemented/);
      rejects({ keySize: -1 }, 'EINVAL', /keySize must be a u32/);
      rejects({ maxEntries: 1.5 }, 'EINVAL', /maxEntries/);
      // BPF_F_TOKEN_FD is stripped before the type's checks, and NUMA node 0 exists.
      const m = make<ArrayMap>({ flags: BPF_F_TOKEN_FD | BPF_F_NUMA_NODE, numaNode: 0 });
      assert.equal(m.flags, BPF_F_NUMA_NODE);
    });

    it('names the map in the error', () => {
      throwsMapError(() => make({ name: 'counts', maxEntries: 0 }), 'EINVAL', /^map 'counts': max_entries must not be 0 \(EINVAL\)$/, 'counts');
    });

    it('applies array_map_alloc_check to ARRAY and PERCPU_ARRAY', () => {
      rejects({ maxEntries: 0 }, 'EINVAL', /max_entries/);
      rejects({ keySize: 8 }, 'EINVAL', /key_size must be 4/);
      rejects({ valueSize: 0 }, 'EINVAL', /value_size/);
      rejects({ flags: BPF_F_NO_PREALLOC }, 'EINVAL', /flags 0x1 are not allowed/);
      rejects({ flags: BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG }, 'EINVAL', /exclusive/);
      rejects({ flags: BPF_F_PRESERVE_ELEMS }, 'EINVAL', /PERF_EVENT_ARRAY/);
      rejects({ type: BPF_MAP_TYPE_PERCPU_ARRAY, flags: BPF_F_MMAPABLE }, 'EINVAL', /only for ARRAY/);
      rejects({ type: BPF_MAP_TYPE_PERCPU_ARRAY, flags: BPF_F_NUMA_NODE }, 'EINVAL', /NUMA/);
      rejects({ valueSize: 0x80000000 }, 'E2BIG', /INT_MAX/);
      rejects({ type: BPF_MAP_TYPE_PERCPU_ARRAY, valueSize: 32769 }, 'E2BIG', /PCPU_MIN_UNIT_SIZE/);
      make({ type: BPF_MAP_TYPE_PERCPU_ARRAY, valueSize: 32768 });
      rejects({ valueSize: 1 << 20, maxEntries: 4096 }, 'ENOMEM', /2 GiB/);
      // Per-CPU copies count together: 64 CPUs × 64 MiB is 4 GiB.
      throwsMapError(() => make({ type: BPF_MAP_TYPE_PERCPU_ARRAY, valueSize: 8, maxEntries: 1 << 23 }, new AddressSpace(), 64), 'ENOMEM', /4294967296 bytes of values \(64 CPUs' copies\)/);
      // The internal maps' flags (elf-loading.md §2.4).
      make({ name: 'x.data', maxEntries: 1, flags: BPF_F_MMAPABLE });
      make({ name: 'x.rodata', maxEntries: 1, flags: BPF_F_RDONLY_PROG | BPF_F_MMAPABLE });
      make({ name: 'x.rodata.str1.1', maxEntries: 1, flags: BPF_F_RDONLY_PROG });
    });

    it('checks initial values', () => {
      rejects({ initialValue: new Uint8Array(9) }, 'EINVAL', /exceeds value_size 8/);
      rejects({ type: BPF_MAP_TYPE_HASH, initialValue: new Uint8Array(1) }, 'EINVAL', /only for ARRAY/);
    });

    it('applies fd_array_map_alloc_check to PROG_ARRAY', () => {
      rejects({ type: BPF_MAP_TYPE_PROG_ARRAY, valueSize: 8 }, 'EINVAL', /value_size must be 4/);
      rejects({ type: BPF_MAP_TYPE_PROG_ARRAY, valueSize: 4, flags: BPF_F_RDONLY_PROG }, 'EINVAL', /RDONLY_PROG/);
      rejects({ type: BPF_MAP_TYPE_PROG_ARRAY, valueSize: 4, flags: BPF_F_MMAPABLE }, 'EINVAL', /only for ARRAY/);
      rejects({ type: BPF_MAP_TYPE_PROG_ARRAY, valueSize: 4, keySize: 8 }, 'EINVAL', /key_size must be 4/);
      assert.ok(make({ type: BPF_MAP_TYPE_PROG_ARRAY, valueSize: 4 }) instanceof ProgArrayMap);
      // 2^32 - 1 slots once exhausted the heap: array_map_alloc's pointer table is 32 GiB, ENOMEM.
      rejects({ type: BPF_MAP_TYPE_PROG_ARRAY, valueSize: 4, maxEntries: 0xffffffff }, 'ENOMEM', /34359738360 bytes of program slots/);
      // The largest accepted table costs memory for the slots in use only.
      const big = make<ProgArrayMap>({ type: BPF_MAP_TYPE_PROG_ARRAY, valueSize: 4, maxEntries: 2 ** 28 });
      big.set(2 ** 28 - 1, 'last', 7);
      assert.equal(big.get(2 ** 28 - 1), 'last');
      assert.equal(big.get(5), undefined);
      assert.equal(big.filled, 1);
      assert.deepEqual(big.lookup(u32(2 ** 28 - 1)), u32(7));
      assert.ok(big.clear(2 ** 28 - 1));
      assert.equal(big.filled, 0);
    });

    it('applies htab_map_alloc_check and htab_map_alloc', () => {
      const h = (over: Partial<MapSpec>) => ({ type: BPF_MAP_TYPE_HASH, ...over });
      rejects(h({ flags: BPF_F_MMAPABLE }), 'EINVAL', /flags 0x400 are not allowed for hash/);
      rejects(h({ flags: BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG }), 'EINVAL', /exclusive/);
      rejects(h({ flags: BPF_F_NO_COMMON_LRU }), 'EINVAL', /only for LRU/);
      rejects(h({ type: BPF_MAP_TYPE_LRU_HASH, flags: BPF_F_NO_PREALLOC }), 'ENOTSUPP', /preallocated/);
      rejects(h({ type: BPF_MAP_TYPE_PERCPU_HASH, flags: BPF_F_NUMA_NODE }), 'EINVAL', /NUMA/);
      rejects(h({ type: BPF_MAP_TYPE_LRU_HASH, flags: BPF_F_NUMA_NODE | BPF_F_NO_COMMON_LRU }), 'EINVAL', /NUMA/);
      rejects(h({ maxEntries: 0 }), 'EINVAL', /max_entries/);
      rejects(h({ keySize: 0 }), 'EINVAL', /key_size/);
      rejects(h({ valueSize: 0 }), 'EINVAL', /value_size/);
      rejects(h({ keySize: 1 << 21, valueSize: 1 << 21 }), 'E2BIG', /KMALLOC_MAX_SIZE/);
      rejects(h({ type: BPF_MAP_TYPE_PERCPU_HASH, valueSize: 40000 }), 'E2BIG', /PCPU_MIN_UNIT_SIZE/);
      rejects(h({ maxEntries: 2 ** 31 + 1 }), 'E2BIG', /2\^31/);
      // The bucket table (16-byte buckets, a power of 2 of them) must stay under U32_MAX bytes.
      rejects(h({ maxEntries: 2 ** 31 }), 'E2BIG', /2147483648 buckets/);
      rejects(h({ maxEntries: 2 ** 27 + 1 }), 'E2BIG', /268435456 buckets of 16 bytes, past U32_MAX/);
      // Accepted: no-prealloc hashes, zero seed, any key size; values are allocated on use.
      make(h({ flags: BPF_F_NO_PREALLOC | BPF_F_ZERO_SEED, keySize: 3, maxEntries: 2 ** 27 }));
      // Per-CPU LRU lists: max_entries becomes a multiple of the CPU count.
      const lru = make<HashMap>(h({ type: BPF_MAP_TYPE_LRU_HASH, flags: BPF_F_NO_COMMON_LRU, maxEntries: 5 }), new AddressSpace(), 4);
      assert.equal(lru.maxEntries, 8);
    });

    it('applies ringbuf_map_alloc', () => {
      const r = (over: Partial<MapSpec>) => ({ type: BPF_MAP_TYPE_RINGBUF, keySize: 0, valueSize: 0, maxEntries: 4096, ...over });
      rejects(r({ maxEntries: 4096 * 3 }), 'EINVAL', /power of 2/);
      rejects(r({ maxEntries: 2048 }), 'EINVAL', /multiple of the page size/);
      rejects(r({ maxEntries: 0 }), 'EINVAL', /power of 2/);
      rejects(r({ keySize: 4 }), 'EINVAL', /key_size and value_size must be 0/);
      rejects(r({ valueSize: 8 }), 'EINVAL', /key_size and value_size must be 0/);
      rejects(r({ flags: BPF_F_RDONLY_PROG }), 'EINVAL', /only BPF_F_NUMA_NODE/);
      assert.ok(make(r({ flags: BPF_F_NUMA_NODE })) instanceof RingBufMap);
    });

    it('applies arena_map_alloc (kernel-arena-streams.md §1.1)', () => {
      const a = (over: Partial<MapSpec>) => ({ type: BPF_MAP_TYPE_ARENA, keySize: 0, valueSize: 0, maxEntries: 16, flags: BPF_F_MMAPABLE, ...over });
      rejects(a({ keySize: 4 }), 'EINVAL', /key_size and value_size must be 0/);
      rejects(a({ maxEntries: 0 }), 'EINVAL', /must not be 0/);
      rejects(a({ flags: 0 }), 'EINVAL', /need BPF_F_MMAPABLE/);
      rejects(a({ flags: BPF_F_MMAPABLE | BPF_F_NUMA_NODE }), 'EINVAL', /flags 0x4 are not allowed for arena/);
      rejects(a({ mapExtra: 0x1000n + 1n }), 'EINVAL', /page aligned/);
      rejects(a({ maxEntries: (1 << 20) + 1 }), 'E2BIG', /4 GiB/);
      rejects(a({ mapExtra: 0xffff_f000n, maxEntries: 2 }), 'ERANGE', /crosses a 4 GiB boundary/);
      const arena = make<ArenaMap>(a({ mapExtra: 1n << 44n, maxEntries: 1 << 20, flags: BPF_F_MMAPABLE | BPF_F_SEGV_ON_FAULT | BPF_F_NO_USER_CONV }));
      assert.ok(arena instanceof ArenaMap);
      assert.equal(arena.userVmStart, 1n << 44n);
      assert.equal(arena.pages, 1 << 20);
      assert.equal(arena.sizeBytes, 2 ** 32);
      throwsMapError(() => arena.lookup(new Uint8Array(0)), 'EINVAL');
      throwsMapError(() => arena.update(new Uint8Array(0), new Uint8Array(0)), 'EOPNOTSUPP');
      throwsMapError(() => arena.delete(new Uint8Array(0)), 'EOPNOTSUPP');
      throwsMapError(() => arena.nextKey(undefined), 'EOPNOTSUPP');
      assert.equal(arena.lookupElem(new Uint8Array(0), 0), 0n);
      assert.equal(arena.updateElem(new Uint8Array(0), new Uint8Array(0), BPF_ANY, 0), -EOPNOTSUPP);
    });
  });

  describe('ARRAY', () => {
    it('returns addresses of zeroed values a program can load and store through', () => {
      const memory = new AddressSpace();
      const m = make<ArrayMap>({ valueSize: 12 }, memory);
      const a0 = m.lookupElem(u32(0), 0), a1 = m.lookupElem(u32(1), 0), a3 = m.lookupElem(u32(3), 0);
      assert.equal(a1 - a0, 16n); // stride round_up(12, 8)
      assert.equal(a3 - a0, 48n);
      assert.equal(m.lookupElem(u32(4), 0), 0n);
      assert.equal(m.lookupElem(u32(0xffffffff), 0), 0n);
      assert.equal(load64(memory, a1), 0n);
      store64(memory, a1, 0x1122334455667788n);
      assert.equal(asU64(m.lookup(u32(1)) as Uint8Array), 0x1122334455667788n);
      assert.equal(m.lookup(u32(1))?.length, 12);
      assert.equal(m.lookupElem(u32(1), 2), a1, 'cpu does not matter for ARRAY');
      assert.match(memory.locate(a0, 1)?.region.name ?? '', /map value of m/);
    });

    it('updates from programs with array_map_update_elem rules', () => {
      const memory = new AddressSpace();
      const m = make<ArrayMap>({}, memory);
      assert.equal(m.updateElem(u32(2), u64(7n), BPF_ANY, 0), 0);
      assert.equal(load64(memory, m.lookupElem(u32(2), 0)), 7n);
      assert.equal(m.updateElem(u32(2), u64(8n), BPF_EXIST, 0), 0);
      assert.equal(m.updateElem(u32(2), u64(9n), BPF_NOEXIST, 0), -EEXIST);
      assert.equal(m.updateElem(u32(4), u64(9n), BPF_ANY, 0), -E2BIG);
      assert.equal(m.updateElem(u32(2), u64(9n), 3, 0), -EINVAL);
      assert.equal(m.updateElem(u32(2), u64(9n), 2 ** 32, 0), -EINVAL, 'flags above 32 bits are not truncated');
      // BPF_F_LOCK passes the flag check but needs a spin lock; the index and NOEXIST rules come first.
      assert.equal(m.updateElem(u32(2), u64(9n), BPF_F_LOCK, 0), -EINVAL);
      assert.equal(m.updateElem(u32(2), u64(9n), BPF_F_LOCK | BPF_NOEXIST, 0), -EEXIST);
      assert.equal(m.updateElem(u32(9), u64(9n), BPF_F_LOCK, 0), -E2BIG);
      assert.equal(m.deleteElem(u32(2)), -EINVAL);
      assert.equal(asU64(m.lookup(u32(2)) as Uint8Array), 8n);
    });

    it('does host operations like the syscall', () => {
      const m = make<ArrayMap>({});
      m.update(u32(1), u64(5n));
      m.update(u32(1), u64(6n), BPF_EXIST);
      const copy = m.lookup(u32(1)) as Uint8Array;
      copy.fill(0xff);
      assert.equal(asU64(m.lookup(u32(1)) as Uint8Array), 6n, 'lookup returns a copy');
      assert.equal(m.lookup(u32(4)), undefined);
      throwsMapError(() => m.update(u32(1), u64(0n), BPF_NOEXIST), 'EEXIST', /always exist/);
      throwsMapError(() => m.update(u32(4), u64(0n)), 'E2BIG', /index 4 is out of range/);
      throwsMapError(() => m.update(u32(1), u64(0n), 3), 'EINVAL', /invalid flags/);
      throwsMapError(() => m.update(u32(1), u64(0n), BPF_F_LOCK), 'EINVAL', /bpf_spin_lock/);
      throwsMapError(() => m.delete(u32(1)), 'EINVAL', /cannot be deleted/);
      throwsMapError(() => m.lookup(new Uint8Array(8)), 'EINVAL', /key must be 4 bytes/);
      throwsMapError(() => m.update(u32(0), new Uint8Array(4)), 'EINVAL', /value must be 8 bytes/);
    });

    it('walks keys with array_map_get_next_key', () => {
      const m = make<ArrayMap>({ maxEntries: 3 });
      assert.deepEqual(m.nextKey(undefined), u32(0));
      assert.deepEqual(m.nextKey(u32(0)), u32(1));
      assert.deepEqual(m.nextKey(u32(1)), u32(2));
      assert.equal(m.nextKey(u32(2)), undefined);
      assert.deepEqual(m.nextKey(u32(77)), u32(0), 'an out-of-range key restarts');
      m.update(u32(2), u64(3n));
      const all = [...m.entries()].map(([k, v]) => [asU32(k), asU64(v)]);
      assert.deepEqual(all, [[0, 0n], [1, 0n], [2, 3n]]);
    });

    it('starts from the initial value (global data)', () => {
      const memory = new AddressSpace();
      const m = make<ArrayMap>({ maxEntries: 1, valueSize: 12, initialValue: new Uint8Array([1, 2, 3]), flags: BPF_F_MMAPABLE }, memory);
      assert.deepEqual(m.lookup(u32(0)), new Uint8Array([1, 2, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
      assert.equal(load64(memory, m.lookupElem(u32(0), 0)), 0x030201n);
    });

    it('honours BPF_F_RDONLY_PROG, freezing and fd permissions', () => {
      const memory = new AddressSpace();
      const ro = make<ArrayMap>({ flags: BPF_F_RDONLY_PROG | BPF_F_MMAPABLE, maxEntries: 1 }, memory);
      assert.equal(ro.readonlyForProgram, true);
      ro.update(u32(0), u64(42n)); // the host writes .rodata before freezing it
      const addr = ro.lookupElem(u32(0), 0);
      assert.equal(load64(memory, addr), 42n);
      assert.equal(memory.locate(addr, 8)?.region.writable, false);
      assert.throws(() => store64(memory, addr, 1n), /read-only/);
      assert.equal(ro.updateElem(u32(0), u64(1n), BPF_ANY, 0), -EPERM);
      ro.freeze();
      assert.equal(ro.frozen, true);
      throwsMapError(() => ro.update(u32(0), u64(1n)), 'EPERM', /frozen/);
      throwsMapError(() => ro.freeze(), 'EPERM', /already frozen/);
      assert.equal(asU64(ro.lookup(u32(0)) as Uint8Array), 42n, 'frozen maps stay readable');

      // Freezing stops the syscall side only.
      const rw = make<ArrayMap>({}, memory);
      rw.freeze();
      assert.equal(rw.updateElem(u32(0), u64(5n), BPF_ANY, 0), 0);
      assert.equal(asU64(rw.lookup(u32(0)) as Uint8Array), 5n);

      const rdonly = make<ArrayMap>({ flags: BPF_F_RDONLY });
      throwsMapError(() => rdonly.update(u32(0), u64(1n)), 'EPERM', /BPF_F_RDONLY/);
      throwsMapError(() => rdonly.freeze(), 'EPERM');
      assert.equal(rdonly.updateElem(u32(0), u64(1n), BPF_ANY, 0), 0, 'BPF_F_RDONLY restricts the fd, not programs');
      const wronly = make<ArrayMap>({ flags: BPF_F_WRONLY });
      throwsMapError(() => wronly.lookup(u32(0)), 'EPERM', /BPF_F_WRONLY/);
      throwsMapError(() => wronly.nextKey(undefined), 'EPERM');
      wronly.update(u32(0), u64(1n));
      assert.equal(make<ArrayMap>({ flags: BPF_F_WRONLY_PROG }).writeonlyForProgram, true);
    });

    it('unmaps its memory on close', () => {
      const memory = new AddressSpace();
      const m = make<ArrayMap>({}, memory);
      const addr = m.lookupElem(u32(0), 0);
      m.close();
      assert.equal(memory.locate(addr, 8), undefined);
    });
  });

  describe('PERCPU_ARRAY', () => {
    it('keeps one region per CPU and writes only the running CPU from programs', () => {
      const memory = new AddressSpace();
      const m = make<ArrayMap>({ type: BPF_MAP_TYPE_PERCPU_ARRAY, valueSize: 4 }, memory);
      assert.equal(m.regions.length, NR_CPUS);
      const addrs = [0, 1, 2].map((cpu) => m.lookupElem(u32(1), cpu));
      assert.equal(new Set(addrs.map((a) => memory.locate(a, 4)?.region)).size, 3);
      assert.match(memory.locate(addrs[2], 4)?.region.name ?? '', /\(cpu 2\)/);
      assert.equal(m.lookupElem(u32(2), 1) - addrs[1], 8n, 'stride round_up(4, 8)');
      assert.equal(m.updateElem(u32(1), u32(0xaabbccdd), BPF_ANY, 1), 0);
      assert.equal(m.updateElem(u32(1), u32(0), BPF_NOEXIST, 1), -EEXIST);
      // Host view: each CPU's value padded to 8 bytes, CPU 0 first.
      const v = m.lookup(u32(1)) as Uint8Array;
      assert.equal(v.length, 8 * NR_CPUS);
      assert.deepEqual([asU32(v, 0), asU32(v, 8), asU32(v, 16)], [0, 0xaabbccdd, 0]);
      store64(memory, addrs[2], 5n);
      assert.equal(asU32(m.lookup(u32(1)) as Uint8Array, 16), 5);
    });

    it('takes every CPU value in host updates (bpf_percpu_array_update)', () => {
      const memory = new AddressSpace();
      const m = make<ArrayMap>({ type: BPF_MAP_TYPE_PERCPU_ARRAY, valueSize: 8 }, memory);
      const value = new Uint8Array(24);
      [10n, 20n, 30n].forEach((x, cpu) => value.set(u64(x), cpu * 8));
      m.update(u32(3), value);
      assert.deepEqual([0, 1, 2].map((cpu) => load64(memory, m.lookupElem(u32(3), cpu))), [10n, 20n, 30n]);
      throwsMapError(() => m.update(u32(3), u64(1n)), 'EINVAL', /24 bytes \(3 CPUs × 8\)/);
      throwsMapError(() => m.update(u32(3), value, BPF_NOEXIST), 'EEXIST');
      throwsMapError(() => m.update(u32(4), value), 'E2BIG');
      throwsMapError(() => m.update(u32(3), value, BPF_F_LOCK | BPF_EXIST), 'EINVAL');
    });
  });

  describe('HASH', () => {
    const key = (s: string) => new TextEncoder().encode(s.padEnd(4, '\0'));

    it('inserts, looks up and deletes with the kernel errnos', () => {
      const memory = new AddressSpace();
      const m = make<HashMap>({ type: BPF_MAP_TYPE_HASH, maxEntries: 2 }, memory);
      assert.equal(m.lookupElem(key('a'), 0), 0n);
      assert.equal(m.updateElem(key('a'), u64(1n), BPF_EXIST, 0), -ENOENT);
      assert.equal(m.updateElem(key('a'), u64(1n), BPF_NOEXIST, 0), 0);
      assert.equal(m.updateElem(key('a'), u64(2n), BPF_NOEXIST, 0), -EEXIST);
      assert.equal(m.updateElem(key('a'), u64(3n), 3, 0), -EINVAL);
      assert.equal(m.updateElem(key('a'), u64(3n), BPF_F_LOCK, 0), -EINVAL);
      assert.equal(m.updateElem(key('b'), u64(2n), BPF_ANY, 0), 0);
      assert.equal(m.size, 2);
      // Full: a new key is E2BIG, an existing one still updates.
      assert.equal(m.updateElem(key('c'), u64(3n), BPF_ANY, 0), -E2BIG);
      assert.equal(m.updateElem(key('c'), u64(3n), BPF_EXIST, 0), -ENOENT, 'check_flags runs before the size check');
      assert.equal(m.updateElem(key('a'), u64(4n), BPF_EXIST, 0), 0);
      assert.equal(load64(memory, m.lookupElem(key('a'), 0)), 4n);
      assert.equal(m.deleteElem(key('c')), -ENOENT);
      assert.equal(m.deleteElem(key('a')), 0);
      assert.equal(m.lookupElem(key('a'), 0), 0n);
      assert.equal(m.updateElem(key('c'), u64(3n), BPF_ANY, 0), 0);
    });

    it('updates an element in place, so earlier pointers see the new value', () => {
      const memory = new AddressSpace();
      const m = make<HashMap>({ type: BPF_MAP_TYPE_HASH }, memory);
      m.updateElem(key('a'), u64(1n), BPF_ANY, 0);
      const p = m.lookupElem(key('a'), 0);
      m.update(key('a'), u64(2n));
      assert.equal(m.lookupElem(key('a'), 0), p);
      assert.equal(load64(memory, p), 2n);
      store64(memory, p, 9n);
      assert.equal(asU64(m.lookup(key('a')) as Uint8Array), 9n);
    });

    it('reuses a deleted element’s slot', () => {
      const m = make<HashMap>({ type: BPF_MAP_TYPE_HASH });
      m.update(key('a'), u64(1n));
      const p = m.lookupElem(key('a'), 0);
      m.delete(key('a'));
      m.update(key('b'), u64(2n));
      assert.equal(m.lookupElem(key('b'), 0), p);
    });

    it('grows its value pool up to max_entries with distinct, stable addresses', () => {
      const memory = new AddressSpace();
      const m = make<HashMap>({ type: BPF_MAP_TYPE_HASH, maxEntries: 100, flags: BPF_F_NO_PREALLOC }, memory);
      const addrs: bigint[] = [];
      for (let i = 0; i < 100; i++) {
        assert.equal(m.updateElem(u32(i), u64(BigInt(i * 3)), BPF_NOEXIST, 0), 0);
        addrs.push(m.lookupElem(u32(i), 0));
      }
      assert.equal(new Set(addrs).size, 100);
      assert.ok(m.regions.length > 1, 'chunks');
      addrs.forEach((a, i) => assert.equal(load64(memory, a), BigInt(i * 3)));
      assert.equal(m.updateElem(u32(100), u64(0n), BPF_ANY, 0), -E2BIG);
      throwsMapError(() => m.update(u32(100), u64(0n)), 'E2BIG', /full \(max_entries 100\)/);
    });

    it('distinguishes keys byte for byte, including high bytes and long keys', () => {
      const m = make<HashMap>({ type: BPF_MAP_TYPE_HASH, keySize: 5000, maxEntries: 8 });
      const k1 = new Uint8Array(5000).fill(0xff), k2 = k1.slice();
      k2[4999] = 0xfe;
      m.update(k1, u64(1n));
      m.update(k2, u64(2n));
      assert.equal(asU64(m.lookup(k1) as Uint8Array), 1n);
      assert.equal(asU64(m.lookup(k2) as Uint8Array), 2n);
      const small = make<HashMap>({ type: BPF_MAP_TYPE_HASH, keySize: 2 });
      small.update(new Uint8Array([0x80, 0]), u64(1n));
      small.update(new Uint8Array([0, 0x80]), u64(2n));
      assert.equal(asU64(small.lookup(new Uint8Array([0, 0x80])) as Uint8Array), 2n);
      for (const size of [8, 16]) {
        const h = make<HashMap>({ type: BPF_MAP_TYPE_HASH, keySize: size });
        for (let i = 0; i < size; i++) {
          const k = new Uint8Array(size);
          k[i] = 0x80 + i;
          if (i < 4) h.update(k, u64(BigInt(i)));
        }
        assert.equal(h.size, 4);
        const k3 = new Uint8Array(size);
        k3[3] = 0x83;
        assert.equal(asU64(h.lookup(k3) as Uint8Array), 3n);
      }
    });

    it('does host operations like the syscall', () => {
      const m = make<HashMap>({ type: BPF_MAP_TYPE_HASH });
      assert.equal(m.lookup(key('a')), undefined);
      throwsMapError(() => m.update(key('a'), u64(1n), BPF_EXIST), 'ENOENT', /no such element/);
      m.update(key('a'), u64(1n), BPF_NOEXIST);
      throwsMapError(() => m.update(key('a'), u64(1n), BPF_NOEXIST), 'EEXIST', /exists/);
      throwsMapError(() => m.update(key('a'), u64(1n), 8), 'EINVAL');
      throwsMapError(() => m.update(key('a'), u64(1n), BPF_F_LOCK), 'EINVAL', /spin_lock/);
      throwsMapError(() => m.delete(key('z')), 'ENOENT', /no such element/);
      m.delete(key('a'));
      assert.equal(m.lookup(key('a')), undefined);
    });

    it('iterates in insertion order with htab_map_get_next_key rules', () => {
      const m = make<HashMap>({ type: BPF_MAP_TYPE_HASH, maxEntries: 8 });
      assert.equal(m.nextKey(undefined), undefined, 'empty map: ENOENT');
      for (const k of ['c', 'a', 'b']) m.update(key(k), u64(BigInt(k.charCodeAt(0))));
      assert.deepEqual(m.nextKey(undefined), key('c'));
      assert.deepEqual(m.nextKey(key('c')), key('a'));
      assert.deepEqual(m.nextKey(key('a')), key('b'));
      assert.equal(m.nextKey(key('b')), undefined);
      assert.deepEqual(m.nextKey(key('zz')), key('c'), 'a missing key restarts from the first');
      m.update(key('c'), u64(1n)); // an update does not move the element
      assert.deepEqual(m.nextKey(undefined), key('c'));
      const seen: string[] = [];
      for (const [k] of m.entries()) {
        seen.push(String.fromCharCode(k[0]));
        if (k[0] === 'c'.charCodeAt(0)) m.delete(key('a')); // deleted before it is reached: skipped
        m.update(key('d'), u64(0n)); // added during iteration: not visited
      }
      assert.deepEqual(seen, ['c', 'b']);
    });

    it('honours BPF_F_RDONLY_PROG', () => {
      const memory = new AddressSpace();
      const m = make<HashMap>({ type: BPF_MAP_TYPE_HASH, flags: BPF_F_RDONLY_PROG }, memory);
      m.update(key('a'), u64(1n));
      const p = m.lookupElem(key('a'), 0);
      assert.equal(load64(memory, p), 1n);
      assert.throws(() => store64(memory, p, 2n), /read-only/);
      assert.equal(m.updateElem(key('a'), u64(2n), BPF_ANY, 0), -EPERM);
      assert.equal(m.deleteElem(key('a')), -EPERM);
    });
  });

  describe('PERCPU_HASH', () => {
    it('sets the running CPU on a program insert and zeroes the others', () => {
      const memory = new AddressSpace();
      const m = make<HashMap>({ type: BPF_MAP_TYPE_PERCPU_HASH, valueSize: 4, maxEntries: 2 }, memory);
      // Leave stale bytes in a slot, then reuse it: other CPUs must read zero.
      m.update(u32(1), new Uint8Array(24).fill(0xee));
      m.delete(u32(1));
      assert.equal(m.updateElem(u32(2), u32(7), BPF_ANY, 1), 0);
      const v = m.lookup(u32(2)) as Uint8Array;
      assert.equal(v.length, 24);
      assert.deepEqual([asU64(v, 0), asU32(v, 8), asU64(v, 16)], [0n, 7, 0n]);
      // An update touches only the running CPU's copy.
      assert.equal(m.updateElem(u32(2), u32(9), BPF_EXIST, 2), 0);
      assert.deepEqual([0, 1, 2].map((cpu) => Number(load64(memory, m.lookupElem(u32(2), cpu)) & 0xffffffffn)), [0, 7, 9]);
      assert.equal(m.updateElem(u32(2), u32(9), BPF_F_LOCK, 2), -EINVAL);
      assert.equal(m.updateElem(u32(3), u32(1), BPF_ANY, 0), 0);
      assert.equal(m.updateElem(u32(4), u32(1), BPF_ANY, 0), -E2BIG);
    });

    it('takes every CPU value in host updates', () => {
      const memory = new AddressSpace();
      const m = make<HashMap>({ type: BPF_MAP_TYPE_PERCPU_HASH, valueSize: 8 }, memory);
      const value = new Uint8Array(24);
      [1n, 2n, 3n].forEach((x, cpu) => value.set(u64(x), cpu * 8));
      m.update(u32(5), value);
      assert.deepEqual([0, 1, 2].map((cpu) => load64(memory, m.lookupElem(u32(5), cpu))), [1n, 2n, 3n]);
      assert.deepEqual(m.lookup(u32(5)), value);
      assert.equal(new Set([0, 1, 2].map((cpu) => memory.locate(m.lookupElem(u32(5), cpu), 8)?.region)).size, 3);
    });
  });

  describe('LRU_HASH', () => {
    it('evicts as the kernel\'s approximate LRU (spec §2.16; P = 3, max 3, T = 1)', () => {
      const m = make<HashMap>({ type: BPF_MAP_TYPE_LRU_HASH, maxEntries: 3 });
      assert.equal(m.lruLists?.targetFree, 1);
      for (const k of [1, 2, 3]) assert.equal(m.updateElem(u32(k), u64(BigInt(k)), BPF_ANY, 0), 0);
      assert.notEqual(m.lookupElem(u32(1), 0), 0n); // a program lookup sets 1's ref
      m.lookup(u32(2)); // host lookups do not (htab_lru_map_lookup_elem_sys)
      assert.equal(m.updateElem(u32(4), u64(4n), BPF_NOEXIST, 0), 0, 'no E2BIG: evicts 2');
      assert.equal(m.lookup(u32(2)), undefined);
      // Lists now: ACTIVE [1], INACTIVE [3], CPU 0's PENDING [4]. A host update of 3 first takes
      // a node: the refill flushes 4 to INACTIVE [4, 3] and shrinks the tail, key 3 itself;
      // the update then inserts 3 afresh (iteration order: after 1 and 4).
      m.update(u32(3), u64(33n));
      assert.deepEqual([...m.entries()].map(([k, v]) => [asU32(k), asU64(v)]), [[1, 1n], [4, 4n], [3, 33n]]);
      // Next the refill flushes 3 to INACTIVE [3, 4] and shrinks 4; 1 (in ACTIVE) stays.
      assert.equal(m.updateElem(u32(5), u64(5n), BPF_ANY, 0), 0);
      assert.deepEqual([...m.entries()].map(([k, v]) => [asU32(k), asU64(v)]), [[1, 1n], [3, 33n], [5, 5n]]);
    });

    it('applies the LRU flag rules and deletes', () => {
      const m = make<HashMap>({ type: BPF_MAP_TYPE_LRU_HASH, maxEntries: 2 });
      assert.equal(m.updateElem(u32(1), u64(1n), BPF_F_LOCK, 0), -EINVAL);
      assert.equal(m.updateElem(u32(1), u64(1n), BPF_EXIST, 0), -ENOENT);
      assert.equal(m.updateElem(u32(1), u64(1n), BPF_ANY, 0), 0);
      assert.equal(m.updateElem(u32(1), u64(1n), BPF_NOEXIST, 0), -EEXIST);
      assert.equal(m.deleteElem(u32(1)), 0);
      assert.equal(m.deleteElem(u32(1)), -ENOENT);
      assert.equal(m.size, 0);
    });

    it('combines LRU and per-CPU values (LRU_PERCPU_HASH)', () => {
      const memory = new AddressSpace();
      const m = make<HashMap>({ type: BPF_MAP_TYPE_LRU_PERCPU_HASH, maxEntries: 1 }, memory);
      m.updateElem(u32(1), u64(1n), BPF_ANY, 2);
      m.updateElem(u32(2), u64(2n), BPF_ANY, 1);
      assert.equal(m.lookup(u32(1)), undefined);
      assert.deepEqual([0, 1, 2].map((cpu) => load64(memory, m.lookupElem(u32(2), cpu))), [0n, 2n, 0n]);
    });
  });

  describe('RINGBUF', () => {
    const rb = (memory = new AddressSpace(), size = 4096) =>
      make<RingBufMap>({ type: BPF_MAP_TYPE_RINGBUF, keySize: 0, valueSize: 0, maxEntries: size }, memory);

    it('reserves records with the kernel header layout and consumes submitted ones in order', () => {
      const memory = new AddressSpace();
      const r = rb(memory);
      const a = r.reserve(5, 0n);
      assert.notEqual(a, 0n);
      assert.deepEqual(r.header(a), { len: 5, busy: true, discarded: false, pgOff: 3 });
      const at = memory.locate(a - 8n, 8);
      assert.equal(at?.region.view.getUint32(at.offset, true), (5 | 0x80000000) >>> 0);
      assert.equal(r.query(BPF_RB_PROD_POS), 16n, 'header + 5 bytes, rounded to 8');
      const b = r.reserve(8, 0);
      assert.equal(b - a, 16n);
      store64(memory, a, 0x0504030201n);
      store64(memory, b, 0x1111n);
      assert.equal(r.submit(b, 0n), 0);
      assert.deepEqual(r.consume(), [], 'a busy record stops the consumer');
      assert.equal(r.submit(a, 0n), 0);
      assert.deepEqual(r.header(a), { len: 5, busy: false, discarded: false, pgOff: 3 });
      assert.deepEqual(r.consume(), [new Uint8Array([1, 2, 3, 4, 5]), u64(0x1111n)]);
      assert.deepEqual(r.consume(), []);
      assert.equal(r.query(BPF_RB_CONS_POS), 32n);
      assert.equal(r.submit(a, 0n), -EINVAL, 'already submitted');
      assert.equal(r.submit(a + 1n, 0n), -EINVAL, 'not a sample address');
    });

    it('skips discarded records', () => {
      const r = rb();
      assert.equal(r.output(new Uint8Array([1]), 0n), 0);
      const d = r.reserve(16, 0n);
      assert.equal(r.discard(d, 0n), 0);
      assert.deepEqual(r.header(d), { len: 16, busy: false, discarded: true, pgOff: 3 });
      assert.equal(r.output(new Uint8Array([3]), 0n), 0);
      assert.deepEqual(r.consume(), [new Uint8Array([1]), new Uint8Array([3])]);
      assert.equal(r.query(BPF_RB_AVAIL_DATA), 0n);
    });

    it('answers bpf_ringbuf_query', () => {
      const r = rb(new AddressSpace(), 8192);
      assert.equal(r.query(BPF_RB_RING_SIZE), 8192n);
      r.output(new Uint8Array(100), 0n);
      assert.equal(r.query(BPF_RB_AVAIL_DATA), 112n);
      assert.equal(r.query(BPF_RB_PROD_POS), 112n);
      assert.equal(r.query(BPF_RB_CONS_POS), 0n);
      assert.equal(r.query(99n), 0n);
      r.consume();
      assert.equal(r.query(BPF_RB_CONS_POS), 112n);
      assert.equal(r.query(BPF_RB_AVAIL_DATA), 0n);
    });

    it('refuses reservations that do not fit, bad sizes and bad flags', () => {
      const r = rb();
      assert.equal(r.reserve(8, 1n), 0n, 'flags must be 0');
      assert.equal(r.reserve(4096, 0n), 0n, 'larger than the ring with its header');
      assert.equal(r.reserve(0x40000000, 0n), 0n, 'over RINGBUF_MAX_RECORD_SZ');
      assert.equal(r.output(new Uint8Array(1), 4n), -EINVAL);
      // Producer may run at most size - 1 bytes ahead of the consumer.
      assert.notEqual(r.reserve(4096 - 16, 0n), 0n); // 4088 bytes
      assert.equal(r.reserve(0, 0n), 0n, '4088 + 8 would reach 4096');
      assert.equal(r.output(new Uint8Array(1), 0n), -EAGAIN);
    });

    it('wraps records around the end, contiguous through the double mapping', () => {
      const memory = new AddressSpace();
      const r = rb(memory);
      // Fill up to 4000 and consume, so the next record starts at offset 4000 and wraps.
      for (let i = 0; i < 4; i++) assert.equal(r.output(new Uint8Array(992).fill(i), 0n), 0);
      assert.equal(r.query(BPF_RB_PROD_POS), 4000n);
      assert.equal(r.consume().length, 4);
      const s = r.reserve(200, 0n);
      assert.notEqual(s, 0n);
      const at = memory.locate(s, 200);
      assert.ok(at, 'the whole sample is addressable');
      for (let i = 0; i < 200; i++) at.region.bytes[at.offset + i] = i;
      assert.equal(r.submit(s, 0n), 0);
      // The tail past the end lands in the real pages at the start of the ring.
      const data = at.region.bytes;
      assert.equal(data[0], 4096 - 4008);
      assert.deepEqual(r.consume(), [Uint8Array.from({ length: 200 }, (_, i) => i)]);
      assert.equal(r.query(BPF_RB_CONS_POS), 4208n);
      // The next record follows in the first half.
      const n = r.reserve(8, 0n);
      assert.equal(n - AddressSpace.address(at.region), 4208n - 4096n + 8n);
      assert.deepEqual(r.header(n)?.pgOff, 3);
    });

    it('records pg_off per page and counts wakeups', () => {
      const r = rb(new AddressSpace(), 8192);
      r.output(new Uint8Array(4100), 0n); // consumer waits at 0: this record wakes it
      assert.equal(r.notifications, 1);
      const s = r.reserve(8, 0n);
      assert.equal(r.header(s)?.pgOff, 4, 'record at offset 4112 is in data page 1');
      r.submit(s, BigInt(BPF_RB_NO_WAKEUP));
      assert.equal(r.notifications, 1, 'not the record the consumer waits for');
      r.output(new Uint8Array(8), BigInt(BPF_RB_FORCE_WAKEUP));
      assert.equal(r.notifications, 2);
      r.consume();
      r.output(new Uint8Array(8), BigInt(BPF_RB_NO_WAKEUP));
      assert.equal(r.notifications, 2, 'NO_WAKEUP even though the consumer waits for it');
    });

    it('has no elements for the map operations', () => {
      const r = rb();
      throwsMapError(() => r.lookup(new Uint8Array(0)), 'ENOTSUPP');
      throwsMapError(() => r.update(new Uint8Array(0), new Uint8Array(0)), 'ENOTSUPP');
      throwsMapError(() => r.delete(new Uint8Array(0)), 'ENOTSUPP');
      throwsMapError(() => r.nextKey(undefined), 'ENOTSUPP');
      assert.equal(r.lookupElem(new Uint8Array(0), 0), 0n);
      assert.equal(r.updateElem(new Uint8Array(0), new Uint8Array(0), BPF_ANY, 0), -ENOTSUPP);
      assert.equal(r.deleteElem(new Uint8Array(0)), -ENOTSUPP);
      assert.ok(r.owns(r.reserve(8)));
      assert.equal(r.owns(0n), false);
    });
  });

  describe('PROG_ARRAY', () => {
    const pa = () => make<ProgArrayMap>({ type: BPF_MAP_TYPE_PROG_ARRAY, valueSize: 4, maxEntries: 3 });

    it('holds programs set by the host for bpf_tail_call', () => {
      const m = pa();
      const prog = { name: 'tail' };
      m.set(1, prog, 42);
      assert.equal(m.get(1), prog);
      assert.equal(m.get(0), undefined);
      assert.equal(m.get(3), undefined);
      assert.equal(m.lookupElem(u32(1), 0), 0n, 'programs cannot look up prog arrays');
      assert.equal(m.updateElem(u32(1), u32(0), BPF_ANY, 0), -EOPNOTSUPP);
      assert.equal(m.deleteElem(u32(1)), -EOPNOTSUPP);
      assert.deepEqual(m.lookup(u32(1)), u32(42), 'host lookups report the id');
      assert.equal(m.lookup(u32(0)), undefined);
      assert.equal(m.clear(1), true);
      assert.equal(m.clear(1), false);
      throwsMapError(() => m.set(3, prog), 'E2BIG', /slot 3 is out of range/);
    });

    it('does host updates through the loader’s resolver', () => {
      const m = pa();
      throwsMapError(() => m.update(u32(0), u32(7)), 'EBADF', /no program resolver/);
      m.resolveProgram = (v) => (v === 7 ? { program: 'p7', id: 70 } : undefined);
      m.update(u32(0), u32(7));
      assert.equal(m.get(0), 'p7');
      assert.deepEqual(m.lookup(u32(0)), u32(70));
      throwsMapError(() => m.update(u32(0), u32(8)), 'EBADF');
      throwsMapError(() => m.update(u32(0), u32(7), BPF_NOEXIST), 'EINVAL', /only BPF_ANY/);
      throwsMapError(() => m.update(u32(3), u32(7)), 'E2BIG');
      throwsMapError(() => m.delete(u32(3)), 'E2BIG');
      m.delete(u32(0));
      throwsMapError(() => m.delete(u32(0)), 'ENOENT', /empty/);
      assert.deepEqual(m.nextKey(undefined), u32(0));
      assert.equal(m.nextKey(u32(2)), undefined);
    });
  });

  it('names map types and errnos', () => {
    assert.equal(mapTypeName(BPF_MAP_TYPE_PERCPU_ARRAY), 'percpu_array');
    assert.equal(mapTypeName(BPF_MAP_TYPE_ARENA), 'arena');
    assert.equal(mapTypeName(200), 'type 200');
    assert.equal(errnoName(-EEXIST), 'EEXIST');
    assert.equal(errnoName(ENOTSUPP), 'ENOTSUPP');
    assert.equal(errnoName(4242), 'errno 4242');
    assert.equal(make<ArrayMap>({}).typeName, 'array');
  });
});
