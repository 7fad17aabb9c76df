// Kernel objects behind pointers and externs per program (spec maps-and-kernel-objects §3.4,
// §5.3, §5.4): the simulated kernel BTF, `&map` read as the map's kernel struct, the current
// task_struct, the per-CPU ksym bpf_prog_active, and extern failures confined to the programs
// that reference them. Expectations: the tables in progs/kobjects.bpf.c and
// progs/extern_missing.bpf.c (array_fields, hash_fields and current_task checked on Linux 6.18).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { parseBtf } from '../src/btf/btf.js';
import { BtfBuilder } from '../src/btf/encode.js';
import { ENGINES } from '../src/engines.js';
import { LoadError, MemoryAccessError } from '../src/errors.js';
import { kernelBtf } from '../src/kernel/kernel-btf.js';
import { SimKernel } from '../src/kernel/kernel.js';
import { typesAreCompat } from '../src/kernel/ksyms.js';
import { ArenaMap } from '../src/maps/arena.js';
import { createMap } from '../src/maps/map.js';
import { loadObject, openObject } from '../src/object.js';
import { BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_HASH } from '../src/uapi.js';
import { bpfrun } from './helpers.js';
import { PROJECT_ROOT } from './suite.js';

const prog = (name: string) => join(PROJECT_ROOT, 'progs', name);
const u32s = (bytes: Uint8Array) => Array.from({ length: bytes.length / 4 }, (_, i) => new DataView(bytes.buffer, bytes.byteOffset).getUint32(i * 4, true));

describe('simulated kernel BTF', () => {
  it('encodes valid BTF the parser reads back, with the x86-64 layouts of the map structs and task_struct', () => {
    const k = kernelBtf();
    const again = parseBtf(k.bytes);
    assert.equal(again.typeCount, k.btf.typeCount);
    assert.equal(k.structSize('bpf_map'), 296);
    assert.equal(k.offsetOf('bpf_map', 'max_entries'), 76);
    assert.equal(k.offsetOf('bpf_map', 'name'), 136);
    assert.equal(k.offsetOf('bpf_array', 'map.max_entries'), 76);
    assert.equal(k.offsetOf('bpf_array', 'elem_size'), 296);
    assert.equal(k.offsetOf('bpf_arena', 'user_vm_start'), 296);
    assert.equal(k.offsetOf('bpf_htab', 'n_buckets'), 824);
    assert.equal(k.offsetOf('task_struct', 'pid'), 1264);
    assert.equal(k.offsetOf('task_struct', 'comm'), 1752);
    const v = k.btf.findByName('bpf_prog_active', 'VAR');
    assert.ok(v && k.btf.typeName(v.type) === 'int');
    assert.ok(k.btf.datasec('.data..percpu')?.vars.some((x) => x.type === v.id));
    assert.equal(k.perCpu.get('bpf_prog_active')?.offset, 0);
  });

  it('the encoder round-trips structs pointing to themselves, enums, funcs and datasecs', () => {
    const b = new BtfBuilder();
    const int = b.int('int', 4, { signed: true });
    const node = b.declare();
    b.struct('node', 16, [{ name: 'v', type: int, offset: 0 }, { name: 'next', type: b.ptr(node), offset: 8 }], node);
    b.enum('e', 4, [['A', 1], ['B', -1]], true);
    b.func('f', b.funcProto(int, [['x', int]]), 1);
    const v = b.variable('g', int);
    b.datasec('.data', 4, [{ type: v, offset: 0, size: 4 }]);
    const btf = parseBtf(b.encode());
    const n = btf.findByName('node', 'STRUCT')!;
    assert.equal(btf.typeName(n.members[1].type), 'struct node *');
    assert.deepEqual(btf.findByName('e', 'ENUM')!.values.map((x) => x.value), [1, -1]);
    assert.equal(btf.findByName('f', 'FUNC')!.linkage, 'global');
    assert.equal(btf.datasec('.data')!.vars[0].type, v);
  });

  it('libbpf\'s type compatibility for typed ksyms (§4.6.2)', () => {
    const b = new BtfBuilder();
    const int = b.int('int', 4, { signed: true });
    const uint = b.int('unsigned int', 4);
    const s = b.struct('s', 4, [{ name: 'x', type: int, offset: 0 }]);
    const local = parseBtf(b.encode());
    const k = kernelBtf().btf;
    const kint = k.findByName('int', 'INT')!.id;
    assert.equal(typesAreCompat(local, int, k, kint), true);
    assert.equal(typesAreCompat(local, uint, k, kint), true); // INT vs INT: sign and size are not compared
    assert.equal(typesAreCompat(local, s, k, kint), false);
  });
});

describe('map handles are the maps\' kernel structs', () => {
  it('a handle names its map and reads as struct bpf_array / bpf_htab; stores fault', () => {
    const kernel = new SimKernel();
    const arr = createMap({ name: 'arr', type: BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 12, maxEntries: 5, flags: 0, mapExtra: 0n }, kernel.memory, { nrCpus: 2 });
    const hash = createMap({ name: 'hash_map_with_a_long_name', type: BPF_MAP_TYPE_HASH, keySize: 4, valueSize: 8, maxEntries: 6, flags: 0, mapExtra: 0n }, kernel.memory, { nrCpus: 2 });
    const ha = kernel.addMap(arr), hh = kernel.addMap(hash);
    assert.equal(kernel.mapOfHandle(ha), arr);
    assert.equal(kernel.mapOfHandle(hh), hash);
    assert.equal(kernel.mapOfHandle(ha + 8n), undefined);
    assert.deepEqual(u32s(kernel.memory.read(ha + 64n, 16)!), [BPF_MAP_TYPE_ARRAY, 4, 12, 5]);
    assert.deepEqual(u32s(kernel.memory.read(ha + 296n, 8)!), [16, 7]); // elem_size, index_mask
    assert.deepEqual(u32s(kernel.memory.read(hh + 88n, 8)!), [0, 2]); // map_flags, id
    assert.deepEqual(u32s(kernel.memory.read(hh + 824n, 8)!), [8, 64]); // n_buckets, elem_size
    assert.equal(Buffer.from(kernel.memory.read(hh + 136n, 16)!).toString('latin1'), 'hash_map_with_a\0');
    // bpf_htab.count follows every insert and delete.
    const countAt = hh + BigInt(kernelBtf().offsetOf('bpf_htab', 'count'));
    assert.deepEqual(u32s(kernel.memory.read(countAt, 4)!), [0]);
    hash.update(new Uint8Array([1, 0, 0, 0]), new Uint8Array(8));
    hash.update(new Uint8Array([2, 0, 0, 0]), new Uint8Array(8));
    assert.deepEqual(u32s(kernel.memory.read(countAt, 4)!), [2]);
    hash.delete(new Uint8Array([1, 0, 0, 0]));
    assert.deepEqual(u32s(kernel.memory.read(countAt, 4)!), [1]);
    assert.equal(kernel.memory.write(ha + 76n, new Uint8Array(4)), false);
    const at = kernel.memory.locate(ha, 1)!;
    assert.throws(() => { throw kernel.memory.outOfBounds(0, 'write', Number(ha & 0xffffffffn) | 0, at.region.hi, 4); },
      (e: unknown) => e instanceof MemoryAccessError && /read-only kernel map objects/.test(e.message));
  });
});

for (const engine of ENGINES) {
  describe(`kobjects.bpf.o [${engine}]`, () => {
    const task = { pid: 4242, tgid: 4240, uid: 1000, gid: 100, comm: 'worker' };
    const obj = loadObject(prog('kobjects.bpf.o'), { engine, task });
    const run = (name: string) => obj.program(name).run().retval;

    it('CO-RE against the simulated kernel BTF (btf: \'simulated\') reads the same fields as the compiled offsets', () => {
      const relocated = loadObject(prog('kobjects.bpf.o'), { engine, task, btf: 'simulated' });
      for (const name of ['array_fields', 'hash_fields', 'current_task']) {
        assert.equal(relocated.program(name).run().retval, run(name), name);
      }
      for (const g of ['arr', 'htab']) assert.deepEqual(relocated.global(g).bytes, obj.global(g).bytes, g);
    });

    it('&array_map and &hash_map read as struct bpf_array and struct bpf_htab (as on Linux 6.18)', () => {
      assert.equal(run('array_fields'), 1n);
      assert.deepEqual(u32s(obj.global('arr').bytes), [2, 4, 12, 5, 0, 16, 7]);
      assert.ok(obj.global('arr_id').value! > 0n);
      assert.equal(run('hash_fields'), 1n);
      assert.deepEqual(u32s(obj.global('htab').bytes), [1, 4, 8, 6, 8, 64]);
    });

    it('&arena reads as struct bpf_arena: user_vm_start and user_vm_end', () => {
      assert.equal(run('arena_fields'), 1n);
      const arena = obj.map('arena') as ArenaMap;
      assert.equal(obj.global('vm_start').value, arena.userVmStart);
      assert.equal(obj.global('vm_end').value, arena.userVmStart + 2n * 4096n);
      assert.equal(obj.global('arena_pages').value, 2n);
    });

    it('bpf_prog_active, a typed per-CPU ksym, through bpf_this_cpu_ptr and bpf_per_cpu_ptr', () => {
      assert.equal(run('prog_active'), 1n);
      assert.equal(obj.global('active_this').value, 0n);
      assert.equal(obj.global('per_cpu_0_ok').value, 1n);
      assert.equal(obj.global('per_cpu_far_null').value, 1n);
    });

    it('bpf_prog_active reads this CPU\'s copy', () => {
      const o = loadObject(prog('kobjects.bpf.o'), { engine, nrCpus: 4, cpu: 2 });
      o.kernel.objects.setPerCpuInt('bpf_prog_active', 2, 5);
      o.kernel.objects.setPerCpuInt('bpf_prog_active', 0, 9);
      o.program('prog_active').run();
      assert.equal(o.global('active_this').value, 5n);
    });

    it('bpf_get_current_task_btf(): the configured task, consistent with the other current-task helpers', () => {
      assert.equal(run('current_task'), 7n);
      assert.equal(obj.global('task_pid').value, 4242n);
      assert.equal(obj.global('task_tgid').value, 4240n);
      assert.equal(obj.global('task_uid').value, 1000n);
      assert.equal(Buffer.from(obj.global('task_comm').bytes).toString('latin1').replace(/\0+$/, ''), 'worker');
    });
  });

  describe(`extern_missing.bpf.o [${engine}]: an unresolved strong extern fails only the programs using it`, () => {
    it('the kfunc user and the ksym user fail with libbpf\'s messages; the other program loads and runs', () => {
      const opened = openObject(prog('extern_missing.bpf.o'));
      assert.throws(() => opened.load({ engine }),
        (e: unknown) => e instanceof LoadError && /program uses_kfunc: extern \(func ksym\) 'bpfrun_missing_kfunc': not found in kernel or module BTFs/.test(e.message));
      opened.setAutoload('uses_kfunc', false);
      assert.throws(() => opened.load({ engine }),
        (e: unknown) => e instanceof LoadError && /program uses_ksym: extern \(var ksym\) 'bpfrun_missing_var': not found in kernel BTF/.test(e.message));
      opened.setAutoload('uses_ksym', false);
      assert.equal(opened.load({ engine }).program('plain').run().retval, 3n);
    });

    it('a kfunc registered at load resolves the first program', () => {
      const opened = openObject(prog('extern_missing.bpf.o'));
      opened.setAutoload('uses_ksym', false);
      const loaded = opened.load({ engine, kfuncs: { bpfrun_missing_kfunc: () => 11 } });
      assert.equal(loaded.program('uses_kfunc').run().retval, 11n);
    });
  });
}

describe('bpfrun run --task', () => {
  it('sets the current task the helpers and task_struct report', () => {
    const r = bpfrun(['run', prog('kobjects.bpf.o'), '--prog', 'current_task', '--task', 'pid=77,tgid=70,uid=5,comm=cli-task', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.programs[0].retval, '7');
    assert.equal(out.globals.task_pid.value, '77');
    assert.equal(out.globals.task_tgid.value, '70');
    assert.equal(out.globals.task_uid.value, '5');
  });

  it('refuses an unknown field, naming the fields', () => {
    const r = bpfrun(['run', prog('kobjects.bpf.o'), '--task', 'pdi=1']);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /--task pdi=1: expected FIELD=VALUE,\.\.\. \(FIELD: pid, tgid, uid, gid, ppid, comm\)/);
  });
});
