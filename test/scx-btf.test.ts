// The sched_ext types of Linux 7.2 in the simulated kernel BTF (src/kernel/scx-btf.ts): the
// struct_ops layouts of spec sched-ext §1.2, the enum values of §1.8/§2.1/§2.7/§4.8, the
// argument structs of §2.5 and §5.4, and the task_struct paths the sched_ext host writes
// (§2.9). Also ENUM64 in the BTF encoder.
import assert from 'node:assert/strict';
import { parseBtf } from '../src/btf/btf.js';
import { BtfBuilder } from '../src/btf/encode.js';
import { kernelBtf } from '../src/kernel/kernel-btf.js';

const enumValue = (type: string, name: string): number | bigint => {
  const t = kernelBtf().btf.findByName(type);
  assert.ok(t && (t.kind === 'ENUM' || t.kind === 'ENUM64'), `enum ${type}`);
  const v = t.values.find((x) => x.name === name);
  assert.ok(v, `${type}.${name}`);
  return v.value;
};

const memberNames = (struct: string): string[] => {
  const t = kernelBtf().btf.findByName(struct, 'STRUCT');
  assert.ok(t, struct);
  return t.members.map((m) => m.name);
};

describe('sched_ext types in the simulated kernel BTF', () => {
  const k = kernelBtf();

  it('lays out sched_ext_ops and sched_ext_ops_cid as spec §1.2', () => {
    const cpu = memberNames('sched_ext_ops');
    const cid = memberNames('sched_ext_ops_cid');
    assert.equal(cpu.length, 45);
    assert.equal(cid.length, 43);
    assert.deepEqual(cpu.slice(0, 4), ['select_cpu', 'enqueue', 'dequeue', 'dispatch']);
    assert.deepEqual(cid.slice(0, 4), ['select_cid', 'enqueue', 'dequeue', 'dispatch']);
    assert.equal(cpu[12], 'set_cpumask');
    assert.equal(cid[12], 'set_cmask');
    assert.equal(cpu[19], 'dump_cpu');
    assert.equal(cid[19], 'dump_cid');
    assert.deepEqual(cpu.slice(29, 35), ['sub_attach', 'sub_detach', 'cpu_online', 'cpu_offline', 'init', 'exit']);
    assert.deepEqual(cid.slice(31, 33), ['cid_online', 'cid_offline']);
    for (const ops of ['sched_ext_ops', 'sched_ext_ops_cid']) {
      const names = memberNames(ops);
      for (let i = 0; i < 35; i++) assert.equal(k.offsetOf(ops, names[i]!), i * 8, `${ops}.${names[i]}`);
      const data: [string, number][] = [
        ['dispatch_max_batch', 280], ['flags', 288], ['timeout_ms', 296], ['exit_dump_len', 300],
        ['hotplug_seq', 304], ['sub_cgroup_id', 312], ['name', 320], ['priv', 448],
      ];
      for (const [name, off] of data) assert.equal(k.offsetOf(ops, name), off, `${ops}.${name}`);
    }
    assert.equal(k.offsetOf('sched_ext_ops', 'cpu_acquire'), 456);
    assert.equal(k.offsetOf('sched_ext_ops', 'cpu_release'), 464);
    assert.equal(k.structSize('sched_ext_ops'), 472);
    assert.equal(k.structSize('sched_ext_ops_cid'), 456);
  });

  it('types the callbacks as pointers to FUNC_PROTOs with the named arguments', () => {
    const ops = k.btf.findByName('sched_ext_ops', 'STRUCT')!;
    const proto = (name: string) => {
      const ptr = k.btf.resolve(ops.members.find((m) => m.name === name)!.type);
      assert.equal(ptr.kind, 'PTR');
      const fp = k.btf.resolve((ptr as { type: number }).type);
      assert.equal(fp.kind, 'FUNC_PROTO');
      return fp as { params: readonly { name: string; type: number }[] };
    };
    assert.deepEqual(proto('select_cpu').params.map((p) => p.name), ['p', 'prev_cpu', 'wake_flags']);
    assert.deepEqual(proto('cgroup_set_bandwidth').params.map((p) => p.name), ['cgrp', 'period_us', 'quota_us', 'burst_us']);
    assert.equal(proto('init').params.length, 0);
    assert.equal(k.btf.typeName(proto('exit').params[0]!.type), 'struct scx_exit_info *');
  });

  it('has the struct_ops value wrappers libbpf looks up (data cacheline-aligned)', () => {
    for (const name of ['bpf_struct_ops_sched_ext_ops', 'bpf_struct_ops_sched_ext_ops_cid']) {
      assert.equal(k.offsetOf(name, 'common'), 0);
      assert.equal(k.offsetOf(name, 'data'), 64);
      assert.equal(k.offsetOf(name, 'data.priv'), 64 + 448);
      assert.equal(k.structSize(name), 576);
    }
  });

  it('lays out the argument and info structs', () => {
    assert.deepEqual(memberNames('scx_exit_info'), ['kind', 'exit_cpu', 'exit_code', 'flags', 'reason', 'bt', 'bt_len', 'msg', 'dump']);
    assert.equal(k.offsetOf('scx_exit_info', 'exit_code'), 8);
    assert.equal(k.offsetOf('scx_exit_info', 'dump'), 56);
    assert.equal(k.offsetOf('scx_init_task_args', 'cgroup'), 8);
    assert.equal(k.offsetOf('scx_cgroup_init_args', 'bw_burst_us'), 24);
    assert.equal(k.offsetOf('scx_cmask', 'bits'), 16);
    assert.equal(k.structSize('scx_cid_topo'), 24);
    assert.equal(k.offsetOf('scx_cid_topo', 'node_idx'), 20);
    assert.equal(k.structSize('scx_event_stats'), 13 * 8);
    assert.equal(k.offsetOf('scx_event_stats', 'SCX_EV_SUB_BYPASS_DISPATCH'), 12 * 8);
    assert.equal(k.structSize('bpf_iter_scx_dsq'), 48);
    assert.equal(k.offsetOf('scx_bpf_select_cpu_and_args', 'flags'), 16);
    assert.equal(k.offsetOf('scx_bpf_dsq_insert_vtime_args', 'enq_flags'), 24);
    assert.equal(k.offsetOf('cgroup', 'kn'), 256);
    assert.equal(k.offsetOf('cgroup', 'self.id'), 72);
    assert.equal(k.offsetOf('kernfs_node', 'id'), 96);
    assert.equal(k.structSize('cpumask'), 1024);
    assert.equal(k.offsetOf('bpf_cpumask', 'usage'), 1024);
  });

  it('gives the 7.2 enum values (spec §1.8, §2.1, §2.7, §4.8)', () => {
    assert.equal(enumValue('scx_public_consts', 'SCX_SLICE_INF'), (1n << 64n) - 1n);
    assert.equal(enumValue('scx_public_consts', 'SCX_SLICE_DFL'), 20_000_000n);
    assert.equal(enumValue('scx_dsq_id_flags', 'SCX_DSQ_LOCAL_ON'), (1n << 63n) | (1n << 62n));
    assert.equal(enumValue('scx_dsq_id_flags', 'SCX_DSQ_GLOBAL'), (1n << 63n) | 1n);
    assert.equal(enumValue('scx_ent_flags', 'SCX_TASK_CURSOR'), -0x80000000);
    assert.equal(enumValue('scx_rq_flags', 'SCX_RQ_IN_BALANCE'), 0x20000);
    assert.equal(enumValue('scx_enq_flags', 'SCX_ENQ_CPU_SELECTED'), 0x100000n);
    assert.equal(enumValue('scx_enq_flags', 'SCX_ENQ_DSQ_PRIQ'), 1n << 57n);
    assert.equal(enumValue('scx_deq_flags', 'SCX_DEQ_SCHED_CHANGE'), 1n << 33n);
    assert.equal(enumValue('scx_ops_flags', 'SCX_OPS_ALL_FLAGS'), 0x1ffn);
    assert.equal(enumValue('scx_exit_kind', 'SCX_EXIT_ERROR_STALL'), 1026);
    assert.equal(enumValue('scx_exit_code', 'SCX_ECODE_ACT_RESTART'), 1n << 48n);
    assert.equal(enumValue('scx_kick_flags', 'SCX_KICK_WAIT'), 4);
    assert.equal(enumValue('scx_dsq_iter_flags', 'SCX_DSQ_ITER_REV'), 0x10000);
    assert.equal(k.btf.findByName('scx_task_state'), undefined, 'scx_task_state is not in 7.2');
  });

  it('reaches the task_struct members the host writes', () => {
    const paths = [
      'scx.slice', 'scx.dsq_vtime', 'scx.weight', 'scx.flags', 'scx.tid', 'scx.disallow', 'scx.ops_state', 'scx.ddsp_dsq_id',
      'se.sum_exec_runtime', 'se.vruntime', 'cpus_ptr', 'cpus_mask', 'nr_cpus_allowed', 'migration_disabled', 'policy',
    ];
    const seen = new Set<number>();
    for (const p of paths) {
      const off = k.offsetOf('task_struct', p);
      assert.ok(off > 0 && off < k.structSize('task_struct'), p);
      assert.ok(!seen.has(off), `${p} overlaps another member`);
      seen.add(off);
    }
    assert.equal(k.offsetOf('task_struct', 'scx.slice') - k.offsetOf('task_struct', 'scx'), 184);
    assert.equal(k.offsetOf('task_struct', 'se.sum_exec_runtime'), 128 + 104);
    // The members kernel-btf.ts had before keep their offsets.
    assert.equal(k.offsetOf('task_struct', 'pid'), 1264);
    assert.equal(k.offsetOf('task_struct', 'comm'), 1752);
    assert.equal(k.offsetOf('task_struct', 'flags'), 44);
    assert.ok(k.offsetOf('task_struct', 'cpus_mask') + 1024 <= k.structSize('task_struct'));
  });
});

describe('BtfBuilder ENUM64', () => {
  it('encodes 64-bit enumerators the parser reads back, unsigned and signed', () => {
    const b = new BtfBuilder();
    b.enum64('big', 8, [['A', 1n << 63n], ['B', 0xffffffffn], ['C', 5n]]);
    b.enum64('sbig', 8, [['M', -2n]], true);
    const btf = parseBtf(b.encode());
    const big = btf.findByName('big', 'ENUM64')!;
    assert.equal(big.size, 8);
    assert.deepEqual(big.values.map((v) => v.value), [1n << 63n, 0xffffffffn, 5n]);
    const sbig = btf.findByName('sbig', 'ENUM64')!;
    assert.equal(sbig.signed, true);
    assert.equal(sbig.values[0]!.value, -2n);
  });
});
