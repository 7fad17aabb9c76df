// Loading as a stage on its own: instantiate() turns a parsed spec into maps, natives and
// programs without the skeleton API around it, and refuses what libbpf or the verifier would.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { LoadError } from '../src/errors.js';
import { checkHelperCalls, instantiate } from '../src/instantiate.js';
import { BPF_CALL, BPF_JMP } from '../src/isa/opcodes.js';
import { internalMapName, parseObject } from '../src/loader/parse.js';
import { ProgArrayMap } from '../src/maps/progarray.js';
import { SimKernel } from '../src/kernel/kernel.js';
import { AddressSpace } from '../src/memory.js';
import { hasProgramTypeModel, ProgramTypeDef, programTypeDef } from '../src/progtypes/index.js';
import { BPF_FUNC } from '../src/uapi.js';
import { readFileSync } from 'node:fs';
import { PROJECT_ROOT } from './suite.js';
import { openObject } from '../src/object.js';
import { refTestKfuncs } from './helpers.js';

const specOf = (file: string) => parseObject(readFileSync(join(PROJECT_ROOT, 'progs', file)), file);

describe('instantiate', () => {
  it('creates every map of the spec in order and freezes .rodata', () => {
    const spec = specOf('globals.bpf.o');
    const instance = instantiate(spec, new Map());
    assert.deepEqual(instance.maps.map((m) => m.spec.name), spec.maps.map((m) => m.name));
    spec.maps.forEach((def, i) => assert.equal(instance.maps[i].frozen, def.origin === 'rodata' || def.origin === 'kconfig', def.name));
    assert.ok(spec.maps.some((m) => m.origin === 'rodata'));
  });

  it('takes the internal maps\' initial bytes from the images it is given', () => {
    const spec = specOf('globals.bpf.o');
    const index = spec.maps.findIndex((m) => m.origin === 'rodata');
    const image = new Uint8Array(spec.maps[index].valueSize).fill(0xab);
    const instance = instantiate(spec, new Map([[index, image]]));
    assert.deepEqual(instance.maps[index].lookup(new Uint8Array(4)), image);
  });

  it('seeds PROG_ARRAY slots from the object\'s initialiser with its programs', () => {
    const spec = specOf('maps.bpf.o');
    const instance = instantiate(spec, new Map());
    const jmp = instance.maps.find((m): m is ProgArrayMap => m instanceof ProgArrayMap)!;
    assert.equal(jmp.get(1), instance.programs.find((p) => p.name === 'tail_target'));
    assert.equal(jmp.get(0), undefined);
  });

  it('binds the object\'s kfunc externs through the natives registry', () => {
    const spec = specOf('arena.bpf.o');
    const instance = instantiate(spec, new Map());
    const kfuncs = spec.externs.filter((x) => x.kind === 'kfunc').map((x) => x.name);
    assert.ok(kfuncs.includes('bpf_arena_alloc_pages'));
    for (const name of kfuncs) assert.ok(instance.natives.kfunc(name), name);
    assert.equal(instance.natives.helper(181)?.name, 'bpf_loop');
  });

  it('refuses a program calling a kfunc extern nothing provides, with libbpf\'s message', () => {
    const spec = specOf('arena_kfunc.bpf.o');
    assert.throws(() => instantiate(spec, new Map()),
      (e: unknown) => e instanceof LoadError
        && /^program \w+: extern \(func ksym\) 'bpfrun_test_\w+': not found in kernel or module BTFs/.test(e.message));
  });
});

describe('autoload (libbpf bpf_program__set_autoload)', () => {
  const path = (file: string) => join(PROJECT_ROOT, 'progs', file);

  it('SEC("?...") programs start with autoload off and are not loaded; the others are', () => {
    const opened = openObject(path('kfuncs.bpf.o'));
    assert.equal(opened.autoload('call_missing'), false);
    assert.equal(opened.autoload('iter_direct'), true);
    const loaded = opened.load();
    assert.deepEqual(loaded.programs.map((p) => p.name), ['iter_direct', 'iter_for', 'weak_check']);
    assert.throws(() => loaded.program('call_missing'), (e: unknown) => e instanceof LoadError && /program call_missing: not loaded: its autoload was off/.test(e.message));
    // instantiate() on its own follows ProgramSpec.autoload the same way.
    assert.deepEqual(instantiate(opened.spec, new Map()).programs.map((p) => p.name), ['iter_direct', 'iter_for', 'weak_check']);
  });

  it('turning autoload on loads a ? program; turning it off leaves a program out', () => {
    const loaded = openObject(path('kfuncs.bpf.o')).setAutoload('call_missing', true).setAutoload('iter_for', false).load();
    assert.deepEqual(loaded.programs.map((p) => p.name), ['iter_direct', 'weak_check', 'call_missing']);
    assert.equal(loaded.program('iter_direct').run().retval, 20n);
  });

  it('a program the runtime refuses no longer spoils the object once its autoload is off', () => {
    const kfuncs = refTestKfuncs(true);
    assert.throws(() => openObject(path('kfunc_refs.bpf.o')).load({ kfuncs }), /program tc_sleepy/);
    const loaded = openObject(path('kfunc_refs.bpf.o')).setAutoload('tc_sleepy', false).load({ kfuncs });
    assert.ok(!loaded.programs.some((p) => p.name === 'tc_sleepy'));
    assert.ok(loaded.programs.length > 0);
  });

  it('an unknown name is refused; a PROG_ARRAY slot naming a program left out fails the load (EBADF)', () => {
    assert.throws(() => openObject(path('kfuncs.bpf.o')).setAutoload('nope', true), (e: unknown) => e instanceof LoadError && /program nope: no such program/.test(e.message));
    assert.throws(() => openObject(path('maps.bpf.o')).setAutoload('tail_target', false).load(),
      (e: unknown) => e instanceof LoadError && /map jmp_table: failed to initialize slot \[1\] to prog 'tail_target': .*EBADF/.test(e.message));
  });
});

describe('program types', () => {
  it('syscall: r1 points at a copy of ctx_in, copied back after the run; without one r1 is NULL', () => {
    const kernel = new SimKernel();
    const memory = kernel.memory;
    const before = memory.regions.length;
    const program = { name: 'p', section: 'syscall', maxCtxOffset: 0, sleepable: true };
    const setup = programTypeDef('syscall').testRun(kernel, { ctx: Uint8Array.of(1, 2, 3) }, program);
    const region = memory.regions[memory.regions.length - 1];
    assert.equal(setup.args![0], AddressSpace.address(region));
    region.bytes[0] = 9;
    assert.deepEqual(setup.finish(0n).ctx, Uint8Array.of(9, 2, 3));
    setup.release();
    assert.equal(memory.regions.length, before);
    const none = programTypeDef('syscall').testRun(kernel, {}, program);
    assert.deepEqual(none.args, [0n]);
    assert.equal(none.finish(0n).ctx, undefined);
  });

  it('types without a module of their own run with the syscall model', () => {
    assert.equal(hasProgramTypeModel('syscall'), true);
    assert.equal(hasProgramTypeModel('xdp'), true);
    assert.equal(hasProgramTypeModel('kprobe'), false);
    assert.equal(programTypeDef('kprobe'), programTypeDef('syscall'));
  });

  it('a helper the program\'s type may not call is refused at load with the verifier\'s message', () => {
    const spec = specOf('helpers.bpf.o');
    const { natives } = instantiate(spec, new Map());
    const program = spec.programs.find((p) => p.insns.some((i) => i.opcode === (BPF_JMP | BPF_CALL) && i.src === 0 && i.imm === BPF_FUNC.ktime_get_ns))!;
    const onlyTailCalls: ProgramTypeDef = { ...programTypeDef('syscall'), name: 'test', helpers: new Set([BPF_FUNC.tail_call]) };
    assert.throws(() => checkHelperCalls(program, onlyTailCalls, natives), (e: unknown) => e instanceof LoadError
      && new RegExp(`^program ${program.name}: insn \\d+: program of this type cannot use helper bpf_\\w+#\\d+$`).test(e.message));
    assert.doesNotThrow(() => checkHelperCalls(program, programTypeDef('syscall'), natives));
  });

  it('packet types may call only their column of the helper table (spec program-types §4.0)', () => {
    const spec = specOf('net_tc.bpf.o');
    const { natives } = instantiate(spec, new Map());
    const helpers = spec.programs.find((p) => p.name === 'tc_helpers')!;
    const resize = spec.programs.find((p) => p.name === 'tc_resize')!;
    for (const type of ['sched_cls', 'sched_act']) {
      assert.doesNotThrow(() => checkHelperCalls(helpers, programTypeDef(type), natives));
      assert.doesNotThrow(() => checkHelperCalls(resize, programTypeDef(type), natives));
    }
    // bpf_skb_store_bytes (#9) and bpf_skb_adjust_room (#50): not for socket filters, cgroup_skb or XDP.
    for (const type of ['socket_filter', 'cgroup_skb', 'lwt_in']) {
      assert.throws(() => checkHelperCalls(helpers, programTypeDef(type), natives), /cannot use helper bpf_skb_store_bytes#9$/);
    }
    assert.throws(() => checkHelperCalls(helpers, programTypeDef('xdp'), natives), /cannot use helper bpf_skb_load_bytes#26$/);
    assert.throws(() => checkHelperCalls(resize, programTypeDef('lwt_xmit'), natives), /cannot use helper bpf_skb_adjust_room#50$/);
    const xdp = specOf('net_xdp.bpf.o');
    const xdpNatives = instantiate(xdp, new Map()).natives;
    const adjust = xdp.programs.find((p) => p.name === 'xdp_adjust')!;
    assert.doesNotThrow(() => checkHelperCalls(adjust, programTypeDef('xdp'), xdpNatives));
    assert.throws(() => checkHelperCalls(adjust, programTypeDef('sched_cls'), xdpNatives), /cannot use helper bpf_xdp_adjust_\w+#\d+$/);
  });
});

describe('internal map names, as libbpf names them', () => {
  it('keep 7 characters for the section, take no prefix for a custom section, and replace other characters', () => {
    assert.deepEqual([
      internalMapName('net_extra', '.bss'), internalMapName('maps', '.bss'), internalMapName('my_object_name', '.rodata'),
      internalMapName('my_object_name', '.kconfig'), internalMapName('x', '.rodata.abracadabra'), internalMapName('my-prog', '.data'),
    ], ['net_extr.bss', 'maps.bss', 'my_objec.rodata', 'my_obje.kconfig', '.rodata.abracad', 'my_prog.data']);
  });
});
