// The project's own sched_ext schedulers (progs/scx_*.bpf.c, header progs/include/scx.h) as
// opened objects: struct_ops maps of type sched_ext_ops / sched_ext_ops_cid with the 7.2 layout
// (sched-ext.md §1.2), member programs, data members, globals and kfunc externs. Nothing is
// loaded here: loading needs the sched_ext kfuncs of the host.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { BpfObject, openObject } from '../src/object.js';
import { BPF_F_LINK, BPF_MAP_TYPE_ARENA, BPF_MAP_TYPE_STRUCT_OPS } from '../src/uapi.js';
import { PROJECT_ROOT } from './suite.js';

const open = (file: string): BpfObject => openObject(join(PROJECT_ROOT, 'progs', file));

/** sched-ext.md §1.2: the cpu form's members in order; the cid form renames five and drops the tail. */
const CPU_MEMBERS = [
  'select_cpu', 'enqueue', 'dequeue', 'dispatch', 'tick', 'runnable', 'running', 'stopping', 'quiescent',
  'yield', 'core_sched_before', 'set_weight', 'set_cpumask', 'update_idle', 'init_task', 'exit_task',
  'enable', 'disable', 'dump', 'dump_cpu', 'dump_task', 'cgroup_init', 'cgroup_exit', 'cgroup_prep_move',
  'cgroup_move', 'cgroup_cancel_move', 'cgroup_set_weight', 'cgroup_set_bandwidth', 'cgroup_set_idle',
  'sub_attach', 'sub_detach', 'cpu_online', 'cpu_offline', 'init', 'exit',
  'dispatch_max_batch', 'flags', 'timeout_ms', 'exit_dump_len', 'hotplug_seq', 'sub_cgroup_id', 'name', 'priv',
  'cpu_acquire', 'cpu_release',
];
const CID_RENAMES: Record<string, string> = {
  select_cpu: 'select_cid', set_cpumask: 'set_cmask', dump_cpu: 'dump_cid', cpu_online: 'cid_online', cpu_offline: 'cid_offline',
};
const CID_MEMBERS = CPU_MEMBERS.slice(0, 43).map((n) => CID_RENAMES[n] ?? n);
/** name -> [offset, size, kind] of the 7.2 layout. */
function layout(names: string[]): Map<string, [number, number, 'program' | 'data']> {
  const data: Record<string, [number, number]> = {
    dispatch_max_batch: [280, 4], flags: [288, 8], timeout_ms: [296, 4], exit_dump_len: [300, 4],
    hotplug_seq: [304, 8], sub_cgroup_id: [312, 8], name: [320, 128], priv: [448, 8],
  };
  return new Map(names.map((n, i): [string, [number, number, 'program' | 'data']] => {
    if (data[n]) return [n, [...data[n], 'data']];
    return [n, [i < 35 ? 8 * i : 456 + 8 * (i - 43), 8, 'program']];
  }));
}

const nameOf = (bytes: Uint8Array): string => Buffer.from(bytes).toString('latin1').replace(/\0+$/, '');

/**
 * Checks a struct_ops map: its type, size, every member at its 7.2 place, the programs bound to
 * members (exactly `programs`), each of those a struct_ops program, sleepable iff listed in
 * `sleepable`, and the data members.
 */
function checkOps(obj: BpfObject, map: string, expect: {
  typeName: 'sched_ext_ops' | 'sched_ext_ops_cid';
  programs: Record<string, string>;
  sleepable?: string[];
  name: string;
  timeoutMs?: number;
  flags?: number;
}): void {
  const def = obj.spec.maps.find((m) => m.name === map);
  assert.ok(def?.structOps, `${map} is a struct_ops map`);
  const info = def.structOps;
  assert.equal(def.type, BPF_MAP_TYPE_STRUCT_OPS);
  assert.equal(def.section, '.struct_ops.link');
  assert.equal(def.flags, BPF_F_LINK);
  assert.equal(info.link, true);
  assert.equal(info.autocreate, true);
  assert.equal(info.typeName, expect.typeName);
  const cid = expect.typeName === 'sched_ext_ops_cid';
  assert.equal(def.valueSize, cid ? 456 : 472);
  const names = cid ? CID_MEMBERS : CPU_MEMBERS;
  assert.deepEqual(info.members.map((m) => m.name), names);
  const want = layout(names);
  for (const m of info.members) {
    const [offset, size, kind] = want.get(m.name)!;
    assert.deepEqual([m.name, m.index, m.offset, m.size, m.kind], [m.name, names.indexOf(m.name), offset, size, kind]);
  }
  const bound = Object.fromEntries(info.members.filter((m) => m.program !== undefined).map((m) => [m.name, m.program]));
  assert.deepEqual(bound, expect.programs);
  for (const [member, prog] of Object.entries(expect.programs)) {
    const p = obj.spec.programs.find((x) => x.name === prog);
    assert.ok(p, `program ${prog}`);
    const sleepable = (expect.sleepable ?? []).includes(prog);
    assert.equal(p.section, `${sleepable ? 'struct_ops.s' : 'struct_ops'}/${prog}`);
    assert.equal(p.autoload, true, `${prog} autoloaded`);
    assert.deepEqual(p.structOpsRefs, [{ map, member }]);
  }
  assert.equal(nameOf(obj.structOpsData(map, 'name').bytes), expect.name);
  assert.equal(obj.structOpsData(map, 'timeout_ms').value, BigInt(expect.timeoutMs ?? 0));
  assert.equal(obj.structOpsData(map, 'flags').value, BigInt(expect.flags ?? 0));
  for (const zero of ['dispatch_max_batch', 'exit_dump_len', 'hotplug_seq', 'sub_cgroup_id', 'priv']) {
    assert.ok(obj.structOpsData(map, zero).bytes.every((b) => b === 0), `${map}.${zero}`);
  }
}

/** The exit record every scheduler carries (scx.h): .data, zero before any exit. */
function checkExitRecord(obj: BpfObject): void {
  for (const [name, size] of [['exit_kind', 4], ['exit_cpu', 4], ['exit_code', 8], ['exit_reason', 128], ['exit_msg', 1024]] as const) {
    const g = obj.global(name);
    assert.equal(g.section, '.data', name);
    assert.equal(g.bytes.length, size, name);
    assert.ok(g.bytes.every((b) => b === 0), name);
  }
}

function checkCounters(obj: BpfObject, names: string[]): void {
  for (const n of names) {
    const g = obj.global(n);
    assert.equal(g.section, '.bss', n);
    assert.equal(g.value, 0n, n);
  }
}

const externs = (obj: BpfObject): string[] => obj.spec.externs.filter((e) => e.kind === 'kfunc').map((e) => e.name).sort();

describe('sched_ext test schedulers (progs/scx_*.bpf.c)', function () {
  it('scx_fifo: fifo_ops, cpu form, FIFO by default', function () {
    const obj = open('scx_fifo.bpf.o');
    assert.deepEqual(obj.spec.maps.filter((m) => m.structOps).map((m) => m.name), ['fifo_ops']);
    checkOps(obj, 'fifo_ops', {
      typeName: 'sched_ext_ops', name: 'fifo', sleepable: ['fifo_init'],
      programs: {
        select_cpu: 'fifo_select_cpu', enqueue: 'fifo_enqueue', dispatch: 'fifo_dispatch', running: 'fifo_running',
        stopping: 'fifo_stopping', enable: 'fifo_enable', init: 'fifo_init', exit: 'fifo_exit',
      },
    });
    const vm = obj.global('vtime_mode');
    assert.equal(vm.section, '.rodata');
    assert.equal(vm.value, 0n);
    obj.setGlobal('vtime_mode', 1);
    assert.equal(obj.global('vtime_mode').value, 1n);
    checkCounters(obj, ['nr_direct', 'nr_enqueued', 'nr_dispatched', 'vtime_now']);
    checkExitRecord(obj);
    assert.deepEqual(externs(obj), [
      '__scx_bpf_dsq_insert_vtime', 'scx_bpf_create_dsq', 'scx_bpf_dsq_insert___v2___bpfrun', 'scx_bpf_dsq_move_to_local___v2___bpfrun',
      'scx_bpf_select_cpu_dfl', 'scx_bpf_task_set_dsq_vtime',
    ]);
    // The loader's edits of the data members go through the shadow data.
    obj.setStructOpsData('fifo_ops', 'timeout_ms', 5000);
    assert.equal(obj.structOpsData('fifo_ops', 'timeout_ms').value, 5000n);
  });

  it('scx_cidq: cidq_ops, cid form, one arena, arena and .bss counters', function () {
    const obj = open('scx_cidq.bpf.o');
    assert.deepEqual(obj.spec.maps.filter((m) => m.structOps).map((m) => m.name), ['cidq_ops']);
    checkOps(obj, 'cidq_ops', {
      typeName: 'sched_ext_ops_cid', name: 'cidq', sleepable: ['cidq_init'],
      programs: {
        select_cid: 'cidq_select_cid', enqueue: 'cidq_enqueue', dispatch: 'cidq_dispatch', set_cmask: 'cidq_set_cmask',
        update_idle: 'cidq_update_idle', init: 'cidq_init', exit: 'cidq_exit',
      },
    });
    const arenas = obj.spec.maps.filter((m) => m.type === BPF_MAP_TYPE_ARENA);
    assert.deepEqual(arenas.map((m) => [m.name, m.maxEntries]), [['arena', 64]]);
    // Arena globals: in .addr_space.1, held by the arena map (not readable before load).
    const arenaIndex = obj.spec.maps.findIndex((m) => m.type === BPF_MAP_TYPE_ARENA);
    const arenaVars = obj.spec.variables.filter((v) => v.section === '.addr_space.1');
    assert.deepEqual(arenaVars.map((v) => [v.name, v.size]).sort(), [
      ['a_dispatched', 8], ['a_enqueued', 8], ['a_idle_picks', 8], ['a_set_cmask', 8], ['idle_cids', 32], ['slots', 8],
    ]);
    for (const v of arenaVars) assert.equal(v.mapIndex, arenaIndex, v.name);
    checkCounters(obj, ['nr_set_cmask', 'nr_enqueued', 'nr_dispatched', 'nr_idle_picks', 'nr_idle_updates', 'init_pages_ok']);
    checkExitRecord(obj);
    const k = externs(obj);
    for (const n of ['bpf_arena_alloc_pages', 'scx_bpf_create_dsq', 'scx_bpf_dsq_insert___v2___bpfrun', 'scx_bpf_dsq_move_to_local___v2___bpfrun']) {
      assert.ok(k.includes(n), n);
    }
    // A cid-form scheduler calls none of the cpu-only kfuncs (sched-ext.md §2.8 rule 5).
    for (const n of ['scx_bpf_select_cpu_dfl', 'scx_bpf_kick_cpu', 'scx_bpf_task_cpu']) assert.ok(!k.includes(n), n);
  });

  it('scx_bad: one map per broken rule, each with its own programs', function () {
    const obj = open('scx_bad.bpf.o');
    assert.deepEqual(obj.spec.maps.filter((m) => m.structOps).map((m) => m.name),
      ['bad_kfunc_ops', 'bad_dsq_ops', 'bad_cpu_ops', 'stall_ops', 'error_ops', 'init_fail_ops']);
    const cpu = 'sched_ext_ops';
    checkOps(obj, 'bad_kfunc_ops', {
      typeName: cpu, name: 'bad_kfunc',
      programs: { select_cpu: 'bad_kfunc_select_cpu', enqueue: 'bad_kfunc_enqueue', exit: 'bad_kfunc_exit' },
    });
    checkOps(obj, 'bad_dsq_ops', {
      typeName: cpu, name: 'bad_dsq',
      programs: { select_cpu: 'bad_dsq_select_cpu', enqueue: 'bad_dsq_enqueue', exit: 'bad_dsq_exit' },
    });
    checkOps(obj, 'bad_cpu_ops', {
      typeName: cpu, name: 'bad_cpu', programs: { select_cpu: 'bad_cpu_select_cpu', exit: 'bad_cpu_exit' },
    });
    checkOps(obj, 'stall_ops', {
      typeName: cpu, name: 'stall', timeoutMs: 1000, sleepable: ['stall_init'],
      programs: {
        select_cpu: 'stall_select_cpu', enqueue: 'stall_enqueue', dispatch: 'stall_dispatch', init: 'stall_init', exit: 'stall_exit',
      },
    });
    checkOps(obj, 'error_ops', { typeName: cpu, name: 'error', programs: { enqueue: 'error_enqueue', exit: 'error_exit' } });
    checkOps(obj, 'init_fail_ops', {
      typeName: cpu, name: 'init_fail', sleepable: ['init_fail_init'],
      programs: { init: 'init_fail_init', exit: 'init_fail_exit' },
    });
    // Every struct_ops program is bound to exactly one member of one map.
    const progs = obj.spec.programs.filter((p) => p.structOpsRefs && p.structOpsRefs.length > 0);
    assert.equal(progs.length, obj.spec.programs.length);
    for (const p of progs) assert.equal(p.structOpsRefs!.length, 1, p.name);
    const ea = obj.global('error_after');
    assert.equal(ea.section, '.rodata');
    assert.equal(ea.value, 5n);
    checkCounters(obj, ['nr_error_enqueues', 'nr_stall_dispatch', 'nr_bad_dsq_enqueues']);
    checkExitRecord(obj);
    // error_ops formats its message from a .data string with the file:line prefix.
    const fmt = obj.spec.variables.find((v) => v.name.endsWith('___scx_fmt'));
    assert.ok(fmt);
    assert.match(nameOf(obj.global(fmt.name).bytes), /^progs\/scx_bad\.bpf\.c:\d+: error_ops: enqueue %llu reached the limit %llu$/);
    // A host attaching one map turns the other maps' programs off.
    for (const p of obj.programs) if (!p.name.startsWith('bad_dsq_')) obj.setAutoload(p.name, false);
    assert.deepEqual(obj.programs.filter((p) => obj.autoload(p.name)).map((p) => p.name),
      ['bad_dsq_select_cpu', 'bad_dsq_enqueue', 'bad_dsq_exit']);
  });

  it('scx_noarena: a cid-form scheduler without an arena', function () {
    const obj = open('scx_noarena.bpf.o');
    checkOps(obj, 'noarena_ops', {
      typeName: 'sched_ext_ops_cid', name: 'noarena', programs: { enqueue: 'noarena_enqueue', exit: 'noarena_exit' },
    });
    assert.deepEqual(obj.spec.maps.filter((m) => m.type === BPF_MAP_TYPE_ARENA), []);
    assert.equal(obj.spec.arenaData, undefined);
    checkCounters(obj, ['nr_enqueued']);
    checkExitRecord(obj);
  });
});
