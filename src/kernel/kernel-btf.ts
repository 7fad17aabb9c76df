/**
 * The simulated kernel's BTF (the vmlinux BTF a real kernel exposes at /sys/kernel/btf/vmlinux),
 * generated here with the encoder of src/btf/encode.ts: the types of the kernel objects bpfrun
 * backs with memory — `struct bpf_map` and the containers programs read through `&map`
 * (spec maps-and-kernel-objects §3.1–§3.4), a `task_struct` subset behind
 * `bpf_get_current_task(_btf)`, `struct cred` — and the VARs typed ksyms resolve against
 * (`bpf_prog_active`, a per-CPU int; spec §5.3), a `struct sk_buff` subset (types only), and
 * the sched_ext types of Linux 7.2 (./scx-btf.ts, spec sched-ext §1.2), which also add the
 * scheduler members to `task_struct` (`se`, `scx`, `cpus_ptr` …).
 * The per-CPU VARs are in the DATASEC `.data..percpu`, as in vmlinux.
 *
 * Member offsets and struct sizes are those of an x86-64 build (Linux 6.18's on the test
 * machine, whose prefix of `struct bpf_map` up to `name` is 7.2's, spec §3.3): a program
 * compiled against that machine's vmlinux.h reads the right fields with or without CO-RE, and
 * CO-RE relocations can target this BTF. Only the members bpfrun fills are described; the
 * structs keep their full sizes.
 */
import { parseBtf, type Btf, type BtfComposite } from '../btf/btf.js';
import { BtfBuilder, type EncodedMember } from '../btf/encode.js';
import { mapTypeName, NR_MAP_TYPES } from '../uapi.js';
import { addScxTypes } from './scx-btf.js';

/** One per-CPU variable: its offset in each CPU's copy of `.data..percpu`, and size. */
export interface PerCpuVar {
  readonly name: string;
  readonly offset: number;
  readonly size: number;
  /** The VAR's BTF id. */
  readonly id: number;
}

export interface KernelBtf {
  /** The encoded blob (what /sys/kernel/btf/vmlinux would hold). */
  readonly bytes: Uint8Array;
  readonly btf: Btf;
  /** The per-CPU VARs, by name, and the size of one CPU's copy of their section. */
  readonly perCpu: ReadonlyMap<string, PerCpuVar>;
  readonly perCpuSize: number;
  /** A struct's size. Throws for a struct the BTF does not have. */
  structSize(name: string): number;
  /** A member's byte offset in a struct (`map.max_entries` walks into `map`). */
  offsetOf(struct: string, path: string): number;
}

function build(): { bytes: Uint8Array; perCpu: PerCpuVar[]; perCpuSize: number } {
  const b = new BtfBuilder();
  // Base types, named as in vmlinux.
  const int = b.int('int', 4, { signed: true });
  const uint = b.int('unsigned int', 4);
  const uchar = b.int('unsigned char', 1);
  const char = b.int('char', 1, { signed: true, char: true });
  const ulong = b.int('long unsigned int', 8);
  const ull = b.int('long long unsigned int', 8);
  const ll = b.int('long long int', 8, { signed: true });
  const bool = b.int('_Bool', 1, { bool: true });
  const u8 = b.typedef('u8', b.typedef('__u8', uchar));
  const u16T = b.typedef('__u16', b.int('short unsigned int', 2));
  const u16 = b.typedef('u16', u16T);
  const u32 = b.typedef('u32', b.typedef('__u32', uint));
  const u64 = b.typedef('u64', b.typedef('__u64', ull));
  const s64 = b.typedef('s64', b.typedef('__s64', ll));
  const boolT = b.typedef('bool', bool);
  const pidT = b.typedef('pid_t', b.typedef('__kernel_pid_t', int));
  const voidPtr = b.ptr(0);
  const arr = (elem: number, n: number) => b.array(elem, n, int);
  const atomic = b.typedef('atomic_t', b.struct('', 4, [{ name: 'counter', type: int, offset: 0 }]));
  const atomic64 = b.typedef('atomic64_t', b.struct('', 8, [{ name: 'counter', type: s64, offset: 0 }]));
  const atomicLong = b.typedef('atomic_long_t', atomic64);
  const kuid = b.typedef('kuid_t', b.struct('', 4, [{ name: 'val', type: b.typedef('uid_t', b.typedef('__kernel_uid32_t', uint)), offset: 0 }]));
  const kgid = b.typedef('kgid_t', b.struct('', 4, [{ name: 'val', type: b.typedef('gid_t', b.typedef('__kernel_gid32_t', uint)), offset: 0 }]));
  const opaque = (name: string) => b.ptr(b.fwd(name));

  const mapTypes: [string, number][] = [];
  for (let t = 0; t < NR_MAP_TYPES; t++) mapTypes.push([`BPF_MAP_TYPE_${mapTypeName(t).toUpperCase()}`, t]);
  const mapType = b.enum('bpf_map_type', 4, mapTypes);

  // struct bpf_map (include/linux/bpf.h), spec §3.3.
  const bpfMap = b.declare();
  const bpfMapPtr = b.ptr(bpfMap);
  const m = (name: string, type: number, offset: number): EncodedMember => ({ name, type, offset });
  b.struct('bpf_map', 296, [
    m('sha', arr(u8, 32), 0), m('excl', u32, 32), m('ops', b.ptr(b.const(b.fwd('bpf_map_ops'))), 40),
    m('inner_map_meta', bpfMapPtr, 48), m('security', voidPtr, 56), m('map_type', mapType, 64),
    m('key_size', u32, 68), m('value_size', u32, 72), m('max_entries', u32, 76), m('map_extra', u64, 80),
    m('map_flags', u32, 88), m('id', u32, 92), m('record', opaque('btf_record'), 96), m('numa_node', int, 104),
    m('btf_key_type_id', u32, 108), m('btf_value_type_id', u32, 112), m('btf_vmlinux_value_type_id', u32, 116),
    m('btf', opaque('btf'), 120), m('objcg', opaque('obj_cgroup'), 128), m('name', arr(char, 16), 136),
    m('refcnt', atomic64, 184), m('usercnt', atomic64, 192), m('writecnt', atomic64, 232),
    m('bypass_spec_v1', boolT, 256), m('frozen', boolT, 257), m('free_after_mult_rcu_gp', boolT, 259),
    m('free_after_rcu_gp', boolT, 260), m('sleepable_refcnt', atomic64, 264), m('elem_count', b.ptr(s64), 272),
    m('cookie', u64, 280), m('excl_prog_sha', b.ptr(char), 288),
  ], bpfMap);
  const map0 = m('map', bpfMap, 0);
  // The containers (map_btf_id per type, spec §3.2).
  b.struct('bpf_array', 312, [
    map0, m('elem_size', u32, 296), m('index_mask', u32, 300), m('aux', opaque('bpf_array_aux'), 304),
    m('', b.composite('union', '', 0, [
      m('value', arr(char, 0), 0), m('ptrs', arr(voidPtr, 0), 0), m('pptrs', arr(b.ptr(voidPtr), 0), 0),
    ]), 312),
  ]);
  b.struct('bpf_htab', 896, [
    map0, m('buckets', opaque('bucket'), 456), m('elems', voidPtr, 464), m('count', atomic, 816),
    m('use_percpu_counter', boolT, 820), m('n_buckets', u32, 824), m('elem_size', u32, 828), m('hashrnd', u32, 832),
  ]);
  b.struct('bpf_arena', 400, [
    map0, m('user_vm_start', u64, 296), m('user_vm_end', u64, 304), m('kern_vm', opaque('vm_struct'), 312),
  ]);
  b.struct('bpf_queue_stack', 312, [
    map0, m('head', u32, 300), m('tail', u32, 304), m('size', u32, 308), m('elements', arr(char, 0), 312),
  ]);
  b.struct('bpf_bloom_filter', 312, [
    map0, m('bitset_mask', u32, 296), m('hash_seed', u32, 300), m('nr_hash_funcs', u32, 304), m('bitset', arr(ulong, 0), 312),
  ]);
  b.struct('bpf_ringbuf_map', 304, [map0, m('rb', opaque('bpf_ringbuf'), 296)]);

  // struct cred and a task_struct subset (include/linux/cred.h, include/linux/sched.h).
  const cred = b.struct('cred', 184, [
    m('usage', atomicLong, 0), m('uid', kuid, 8), m('gid', kgid, 12), m('suid', kuid, 16), m('sgid', kgid, 20),
    m('euid', kuid, 24), m('egid', kgid, 28), m('fsuid', kuid, 32), m('fsgid', kgid, 36),
  ]);
  const credPtr = b.ptr(b.const(cred));
  const task = b.declare();
  const taskPtr = b.ptr(task);
  // The sched_ext types (./scx-btf.ts) and the task_struct members that use them.
  const scx = addScxTypes(b, { int, uint, char, ulong, u8, u16, u32, u64, s64, bool: boolT, atomic, atomicLong, task });
  b.struct('task_struct', scx.taskSize, [
    ...scx.taskMembers,
    m('__state', uint, 24), m('stack', voidPtr, 32), m('flags', uint, 44), m('on_cpu', int, 52),
    m('recent_used_cpu', int, 96), m('prio', int, 108), m('static_prio', int, 112), m('normal_prio', int, 116),
    m('mm', opaque('mm_struct'), 1136), m('pid', pidT, 1264), m('tgid', pidT, 1268),
    m('real_parent', taskPtr, 1280), m('parent', taskPtr, 1288), m('group_leader', taskPtr, 1328),
    m('start_time', u64, 1552), m('real_cred', credPtr, 1728), m('cred', credPtr, 1736), m('comm', arr(char, 16), 1752),
  ].sort((x, y) => x.offset - y.offset), task);

  // A struct sk_buff subset (include/linux/skbuff.h), for CO-RE relocations of the programs
  // that read an skb through BTF (not backed by memory yet: the test runs' skbs are the
  // context conversions of src/net/).
  const dataT = b.typedef('sk_buff_data_t', uint);
  b.struct('sk_buff', 224, [
    m('sk', opaque('sock'), 24), m('cb', arr(char, 48), 40), m('len', uint, 112), m('data_len', uint, 116),
    m('mac_len', u16T, 120), m('hdr_len', u16T, 122), m('queue_mapping', u16T, 124), m('tail', dataT, 184),
    m('end', dataT, 188), m('head', b.ptr(uchar), 192), m('data', b.ptr(uchar), 200),
  ]);

  // Per-CPU variables (.data..percpu): bpf_prog_active (kernel/bpf/syscall.c, DEFINE_PER_CPU(int)).
  const perCpu: PerCpuVar[] = [];
  let perCpuSize = 0;
  const addPerCpu = (name: string, type: number, size: number) => {
    perCpuSize = Math.ceil(perCpuSize / 8) * 8;
    perCpu.push({ name, offset: perCpuSize, size, id: b.variable(name, type) });
    perCpuSize += size;
  };
  addPerCpu('bpf_prog_active', int, 4);
  perCpuSize = Math.ceil(perCpuSize / 64) * 64;
  b.datasec('.data..percpu', perCpuSize, perCpu.map((v) => ({ type: v.id, offset: v.offset, size: v.size })));
  return { bytes: b.encode(), perCpu, perCpuSize };
}

let cached: KernelBtf | undefined;

/** The simulated kernel's BTF, built once. */
export function kernelBtf(): KernelBtf {
  if (cached) return cached;
  const { bytes, perCpu, perCpuSize } = build();
  const btf = parseBtf(bytes);
  const struct = (name: string): BtfComposite => {
    const t = btf.findByName(name, 'STRUCT');
    if (!t) throw new Error(`the simulated kernel BTF has no struct ${name}`);
    return t;
  };
  const offsets = new Map<string, number>();
  cached = Object.freeze({
    bytes, btf, perCpuSize,
    perCpu: new Map(perCpu.map((v) => [v.name, v])),
    structSize: (name: string) => struct(name).size,
    offsetOf: (name: string, path: string) => {
      const key = `${name}.${path}`;
      let off = offsets.get(key);
      if (off !== undefined) return off;
      off = 0;
      let t: BtfComposite = struct(name);
      for (const part of path.split('.')) {
        const member = t.members.find((x) => x.name === part);
        if (!member) throw new Error(`struct ${t.name} has no member ${part} in the simulated kernel BTF`);
        off += member.bitOffset / 8;
        const next = btf.resolve(member.type);
        if (next.kind === 'STRUCT' || next.kind === 'UNION') t = next;
      }
      offsets.set(key, off);
      return off;
    },
  });
  return cached;
}
