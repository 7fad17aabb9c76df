/**
 * Kernel objects behind pointers (spec maps-and-kernel-objects §3.4, §5.3): the memory a
 * program reads through `&map` (each map's container struct, laid out as the simulated kernel
 * BTF says, src/kernel/kernel-btf.ts), the current task (`bpf_get_current_task(_btf)`), and
 * the per-CPU copies of the kernel's per-CPU variables (typed per-CPU ksyms,
 * `bpf_this_cpu_ptr` / `bpf_per_cpu_ptr`).
 *
 * Map handles stay where they were (MAP_HANDLE_WINDOW, one page a map at (index + 1) << 12):
 * the window now holds one read-only region covering every registered map's page, so
 * `SimKernel.mapAt` keeps naming maps by handle and a load through `&map` reads the struct.
 * Pointer members (`ops`, `record`, `btf`, ...) read 0, as a faulting probe read would.
 */
import { MAP_HANDLE_HI } from '../addresses.js';
import { AddressSpace, type MemoryRegion } from '../memory.js';
import { ArenaMap } from '../maps/arena.js';
import type { BpfMap } from '../maps/base.js';
import { BloomFilterMap } from '../maps/bloom-filter.js';
import { HashMap } from '../maps/hash.js';
import {
  BPF_F_TOKEN_FD, BPF_MAP_TYPE_ARENA, BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_ARRAY_OF_MAPS, BPF_MAP_TYPE_BLOOM_FILTER,
  BPF_MAP_TYPE_CGROUP_ARRAY, BPF_MAP_TYPE_HASH, BPF_MAP_TYPE_HASH_OF_MAPS, BPF_MAP_TYPE_LRU_HASH,
  BPF_MAP_TYPE_LRU_PERCPU_HASH, BPF_MAP_TYPE_PERCPU_ARRAY, BPF_MAP_TYPE_PERCPU_HASH, BPF_MAP_TYPE_PERF_EVENT_ARRAY,
  BPF_MAP_TYPE_PROG_ARRAY, BPF_MAP_TYPE_QUEUE, BPF_MAP_TYPE_RINGBUF, BPF_MAP_TYPE_STACK, BPF_MAP_TYPE_USER_RINGBUF,
} from '../uapi.js';
import { kernelBtf } from './kernel-btf.js';

/** The page each map's struct gets in the handle window. */
const HANDLE_STRIDE = 0x1000;

/** The container struct of a map type (map_btf_id, spec §3.2); plain `bpf_map` for the rest. */
export function mapStructName(type: number): string {
  switch (type) {
    case BPF_MAP_TYPE_ARRAY: case BPF_MAP_TYPE_PERCPU_ARRAY: case BPF_MAP_TYPE_PROG_ARRAY: case BPF_MAP_TYPE_PERF_EVENT_ARRAY:
    case BPF_MAP_TYPE_CGROUP_ARRAY: case BPF_MAP_TYPE_ARRAY_OF_MAPS:
      return 'bpf_array';
    case BPF_MAP_TYPE_HASH: case BPF_MAP_TYPE_PERCPU_HASH: case BPF_MAP_TYPE_LRU_HASH: case BPF_MAP_TYPE_LRU_PERCPU_HASH:
    case BPF_MAP_TYPE_HASH_OF_MAPS:
      return 'bpf_htab';
    case BPF_MAP_TYPE_ARENA: return 'bpf_arena';
    case BPF_MAP_TYPE_QUEUE: case BPF_MAP_TYPE_STACK: return 'bpf_queue_stack';
    case BPF_MAP_TYPE_BLOOM_FILTER: return 'bpf_bloom_filter';
    case BPF_MAP_TYPE_RINGBUF: case BPF_MAP_TYPE_USER_RINGBUF: return 'bpf_ringbuf_map';
    default: return 'bpf_map';
  }
}

const roundUp8 = (n: number) => Math.ceil(n / 8) * 8;
const roundupPow2 = (n: number) => (n <= 1 ? 1 : 2 ** Math.ceil(Math.log2(n)));

/** The task programs run in (KernelOptions.task). */
export interface TaskOptions {
  readonly pid?: number;
  readonly tgid?: number;
  readonly uid?: number;
  readonly gid?: number;
  /** At most 15 bytes are kept (TASK_COMM_LEN 16 with the NUL). Default "bpfrun". */
  readonly comm?: string;
  /** The parent's pid (real_parent->tgid). Default 0: the parent is the idle task, swapper/0. */
  readonly ppid?: number;
}

export interface SimTask {
  readonly pid: number;
  readonly tgid: number;
  readonly uid: number;
  readonly gid: number;
  readonly comm: string;
  readonly ppid: number;
}

/** Checks and completes task options (pid = tgid = 1, uid = gid = 0, comm "bpfrun", ppid 0). */
export function resolveTask(options: TaskOptions = {}, pid?: number, tgid?: number): SimTask {
  const p = options.pid ?? pid ?? 1;
  const task: SimTask = {
    pid: p, tgid: options.tgid ?? tgid ?? p, uid: options.uid ?? 0, gid: options.gid ?? 0,
    comm: (options.comm ?? 'bpfrun').slice(0, 15), ppid: options.ppid ?? 0,
  };
  for (const key of ['pid', 'tgid', 'uid', 'gid', 'ppid'] as const) {
    const v = task[key];
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`task ${key} must be an integer in 0..4294967295`);
  }
  if (!/^[\x20-\x7e]*$/.test(task.comm)) throw new RangeError('task comm must be printable ASCII');
  return Object.freeze(task);
}

export class KernelObjects {
  private handleRegion?: MemoryRegion;
  private readonly maps: BpfMap[] = [];
  private tasks?: { region: MemoryRegion; current: bigint };
  private percpu?: MemoryRegion;

  constructor(private readonly memory: AddressSpace, private readonly nrCpus: number, readonly task: SimTask,
    private readonly cpu: number) {}

  // ---- Maps (spec §3.4) ----

  /** Registers the map at `index` (its handle's page) and writes its struct. */
  addMap(map: BpfMap, index: number): void {
    this.maps[index] = map;
    const size = (index + 1) * HANDLE_STRIDE;
    const old = this.handleRegion;
    if (!old || old.bytes.length < size) {
      const bytes = new Uint8Array(size);
      if (old) bytes.set(old.bytes);
      this.handleRegion = this.memory.mapInWindow('kernel map objects (struct bpf_map)', MAP_HANDLE_HI, HANDLE_STRIDE, bytes, false);
    }
    this.writeMap(index);
    // bpf_htab.count follows the map as the kernel's does, insert by insert.
    if (map instanceof HashMap) {
      const at = index * HANDLE_STRIDE + kernelBtf().offsetOf('bpf_htab', 'count');
      map.onCountChange = (count) => this.handleRegion!.view.setUint32(at, count, true);
    }
  }

  /** Rewrites every map's struct (frozen, element counts): call after the state changed. */
  refreshMaps(): void {
    this.maps.forEach((_, i) => this.writeMap(i));
  }

  private writeMap(index: number): void {
    const map = this.maps[index];
    const region = this.handleRegion;
    if (!map || !region) return;
    const k = kernelBtf();
    const base = index * HANDLE_STRIDE;
    const page = region.bytes.subarray(base, base + HANDLE_STRIDE);
    page.fill(0);
    const view = new DataView(page.buffer, page.byteOffset, page.byteLength);
    const struct = mapStructName(map.type);
    // `map` is the first member of every container (spec §3.2): bpf_map's fields sit at its offsets.
    const at = (path: string) => (path.startsWith('map.') ? k.offsetOf('bpf_map', path.slice(4)) : k.offsetOf(struct, path));
    const u32 = (path: string, v: number) => view.setUint32(at(path), v >>> 0, true);
    const u64 = (path: string, v: bigint) => view.setBigUint64(at(path), BigInt.asUintN(64, v), true);
    u32('map.map_type', map.type);
    u32('map.key_size', map.keySize);
    u32('map.value_size', map.valueSize);
    u32('map.max_entries', map.maxEntries);
    u64('map.map_extra', map.spec.mapExtra);
    u32('map.map_flags', map.flags & ~BPF_F_TOKEN_FD);
    u32('map.id', index + 1);
    view.setInt32(at('map.numa_node'), -1, true);
    u32('map.btf_key_type_id', map.spec.keyTypeId ?? 0);
    u32('map.btf_value_type_id', map.spec.valueTypeId ?? 0);
    const name = map.name.slice(0, 15);
    for (let i = 0; i < name.length; i++) page[at('map.name') + i] = name.charCodeAt(i) & 0xff;
    view.setBigInt64(at('map.refcnt'), 1n, true);
    view.setBigInt64(at('map.usercnt'), 1n, true);
    page[at('map.frozen')] = map.frozen ? 1 : 0;
    switch (struct) {
      case 'bpf_array': {
        page[at('map.bypass_spec_v1')] = 1; // array maps of a privileged creator
        const fd = map.type !== BPF_MAP_TYPE_ARRAY && map.type !== BPF_MAP_TYPE_PERCPU_ARRAY;
        u32('elem_size', fd ? 8 : roundUp8(map.valueSize));
        u32('index_mask', roundupPow2(map.maxEntries) - 1);
        break;
      }
      case 'bpf_htab': {
        const percpu = map.type === BPF_MAP_TYPE_PERCPU_HASH || map.type === BPF_MAP_TYPE_LRU_PERCPU_HASH;
        u32('n_buckets', roundupPow2(map.maxEntries));
        u32('elem_size', 48 + roundUp8(map.keySize) + (percpu ? 8 : roundUp8(map.valueSize)));
        if (map instanceof HashMap) u32('count', map.size);
        break;
      }
      case 'bpf_arena':
        if (map instanceof ArenaMap) {
          u64('user_vm_start', map.userVmStart);
          u64('user_vm_end', map.userVmStart + BigInt(map.sizeBytes));
        }
        break;
      case 'bpf_queue_stack':
        u32('size', map.maxEntries + 1);
        break;
      case 'bpf_bloom_filter':
        if (map instanceof BloomFilterMap) {
          u32('bitset_mask', map.bitsetMask);
          u32('hash_seed', map.hashSeed);
          u32('nr_hash_funcs', map.nrHashFuncs);
        }
        break;
      default:
    }
  }

  // ---- The current task (bpf_get_current_task, bpf_get_current_task_btf) ----

  /** The address of the current task's `struct task_struct`. */
  currentTask(): bigint {
    return (this.tasks ??= this.buildTasks()).current;
  }

  /**
   * Three task_structs and a cred, read-only: the current task, its group leader (itself when
   * pid = tgid) and its parent (swapper/0 for ppid 0), laid out by the kernel BTF.
   */
  private buildTasks(): { region: MemoryRegion; current: bigint } {
    const k = kernelBtf();
    const tsize = Math.ceil(k.structSize('task_struct') / 64) * 64;
    const csize = Math.ceil(k.structSize('cred') / 64) * 64;
    const bytes = new Uint8Array(tsize * 3 + csize);
    const region = this.memory.map('task_struct', bytes, false);
    const addr = (off: number) => AddressSpace.address(region, off);
    const view = region.view;
    const t = this.task;
    const credOff = tsize * 3;
    const write = (slot: number, pid: number, tgid: number, comm: string, leader: number, parent: number) => {
      const o = slot * tsize;
      const at = (path: string) => o + k.offsetOf('task_struct', path);
      view.setInt32(at('pid'), pid | 0, true);
      view.setInt32(at('tgid'), tgid | 0, true);
      view.setInt32(at('prio'), 120, true);
      view.setInt32(at('static_prio'), 120, true);
      view.setInt32(at('normal_prio'), 120, true);
      view.setInt32(at('on_cpu'), slot === 0 ? 1 : 0, true);
      view.setInt32(at('recent_used_cpu'), this.cpu, true);
      view.setBigUint64(at('group_leader'), addr(leader * tsize), true);
      view.setBigUint64(at('real_parent'), addr(parent * tsize), true);
      view.setBigUint64(at('parent'), addr(parent * tsize), true);
      view.setBigUint64(at('real_cred'), addr(credOff), true);
      view.setBigUint64(at('cred'), addr(credOff), true);
      for (let i = 0; i < Math.min(comm.length, 15); i++) bytes[at('comm') + i] = comm.charCodeAt(i);
    };
    const leader = t.pid === t.tgid ? 0 : 1;
    write(0, t.pid, t.tgid, t.comm, leader, 2);
    write(1, t.tgid, t.tgid, t.comm, 1, 2);
    write(2, t.ppid, t.ppid, t.ppid === 0 ? 'swapper/0' : 'init', 2, 2);
    const c = (path: string) => credOff + k.offsetOf('cred', path);
    view.setBigInt64(c('usage'), 1n, true);
    for (const f of ['uid', 'suid', 'euid', 'fsuid']) view.setUint32(c(f), t.uid >>> 0, true);
    for (const f of ['gid', 'sgid', 'egid', 'fsgid']) view.setUint32(c(f), t.gid >>> 0, true);
    return { region, current: addr(0) };
  }

  // ---- Per-CPU variables (spec §5.3) ----

  private perCpuRegion(): MemoryRegion {
    return this.percpu ??= this.memory.map('per-CPU data (.data..percpu)', new Uint8Array(kernelBtf().perCpuSize * this.nrCpus), false);
  }

  /** The address of a per-CPU variable (CPU 0's copy, what the ksym's ld_imm64 yields), or undefined. */
  perCpuAddress(name: string): bigint | undefined {
    const v = kernelBtf().perCpu.get(name);
    return v && AddressSpace.address(this.perCpuRegion(), v.offset);
  }

  /** A per-CPU variable's value on a CPU, as the host sets it. */
  setPerCpuInt(name: string, cpu: number, value: number): void {
    const v = kernelBtf().perCpu.get(name);
    if (!v) throw new RangeError(`no per-CPU variable ${name}`);
    this.perCpuRegion().view.setInt32(cpu * kernelBtf().perCpuSize + v.offset, value | 0, true);
  }

  /**
   * bpf_per_cpu_ptr / bpf_this_cpu_ptr: `ptr` (a per-CPU variable's address) moved to `cpu`'s
   * copy; undefined if `ptr` is not in CPU 0's copy of the per-CPU data.
   */
  perCpuPtr(ptr: bigint, cpu: number): bigint | undefined {
    const region = this.perCpuRegion();
    const size = kernelBtf().perCpuSize;
    const base = AddressSpace.address(region);
    if (ptr < base || ptr >= base + BigInt(size)) return undefined;
    return ptr + BigInt(cpu * size);
  }
}
