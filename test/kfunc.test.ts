// Typed kfuncs in TypeScript: argument decoding as the kernel passes them, the load-time check
// against the object's BTF prototype, and the strict GUARD_SZ / 2 contract.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { BpfError, KernelOopsError, LoadError } from '../src/errors.js';
import { defineKfunc, KfuncContractError, KfuncSpec } from '../src/kfunc.js';
import { loadObject, LoadOptions } from '../src/object.js';
import { PROJECT_ROOT } from './suite.js';

const OBJ = join(PROJECT_ROOT, 'progs', 'arena_kfunc.bpf.o');
const PG = (n: number) => (1n << 44n) + BigInt(n) * 0x1000n;

/** arena_kfunc.bpf.c's test kfuncs, typed: the first argument is an arena pointer. */
function typed(writeOffset = 0n): KfuncSpec[] {
  const arena = (call: Parameters<KfuncSpec['impl']>[0]) => {
    const a = call.args[0];
    assert.ok(a.kind === 'arena' && a.address !== null);
    return a.address;
  };
  return [
    defineKfunc({
      name: 'bpfrun_test_arena_write', args: ['arena', 'scalar'], ret: 'scalar',
      impl: (call) => {
        const v = call.args[1];
        assert.equal(v.kind, 'scalar');
        call.kernel.writeU32(arena(call) + writeOffset, Number((v as { value: bigint }).value & 0xffffffffn));
        return 0;
      },
    }),
    defineKfunc({ name: 'bpfrun_test_arena_read', args: ['arena'], ret: 'scalar', impl: (call) => call.kernel.readU32(arena(call)) }),
    defineKfunc({
      name: 'bpfrun_test_arena_read_off', args: ['arena', 'scalar'], ret: 'scalar',
      impl: (call) => call.kernel.readU32(arena(call) + BigInt.asIntN(32, (call.args[1] as { value: bigint }).value)),
    }),
  ];
}

const load = (options: LoadOptions) => loadObject(OBJ, { engine: 'jit', ...options });

describe('typed kfuncs', () => {
  it('arguments arrive as the kernel passes them; the programs pass their own checks', () => {
    const obj = load({ kfuncs: typed() });
    for (const name of ['kf_alloc_write', 'kf_unalloc_write', 'kf_fault_orders', 'kf_alloc_free_scratch', 'kf_from_subprog']) {
      assert.equal(obj.program(name).run().retval, 0n, name);
    }
    assert.equal(obj.global('a_kread').value, 0xa1b2c3d4n);
    assert.equal(obj.program('kf_unalloc_write').streams.stderr.text.split('\n')[0],
      `ERROR: Arena WRITE access at unmapped address 0x${PG(3).toString(16)}`);
  });

  it('a definition that does not match the object\'s BTF prototype is a load error naming both sides', () => {
    const bad = defineKfunc({ name: 'bpfrun_test_arena_write', args: ['scalar'], impl: () => 0 });
    assert.throws(() => load({ kfuncs: [bad] }), (e: unknown) => {
      assert.ok(e instanceof LoadError);
      assert.equal(e.where, 'extern bpfrun_test_arena_write');
      assert.match(e.reason, /2 arguments declared, 1 defined: the object declares \(void \*, __u32\), the runtime defines \(scalar\)/);
      return true;
    });
    const kinds = defineKfunc({ name: 'bpfrun_test_arena_read', args: ['scalar'], impl: () => 0 });
    assert.throws(() => load({ kfuncs: [...typed().filter((k) => k.name !== 'bpfrun_test_arena_read'), kinds] }),
      /argument 0 \(void \*\) is declared a pointer but defined 'scalar'/);
  });

  it('definitions are checked when they are made', () => {
    assert.throws(() => defineKfunc({ name: 'x', args: ['size'], impl: () => 0 }), /'size' must follow a 'mem'/);
    assert.throws(() => defineKfunc({ name: 'not-c', args: [], impl: () => 0 }), /not a C identifier/);
  });

  describe('the GUARD_SZ / 2 contract', () => {
    it('strict mode flags an access 32 KiB or more past the arena pointer, even on a mapped page', () => {
      const obj = load({ kfuncs: typed(0x8000n), strictKfuncContract: true });
      assert.throws(() => obj.program('kf_alloc_write').run(), (e: unknown) => {
        assert.ok(e instanceof KfuncContractError);
        assert.equal(e.site.kfunc, 'bpfrun_test_arena_write');
        assert.equal(e.argument, 0);
        assert.equal(e.offset, 0x8000n);
        assert.match(e.message, /kfunc bpfrun_test_arena_write touched arena memory \+0x8000 from its arena argument 0 \(4 bytes\), beyond the GUARD_SZ \/ 2 = 32768 bytes/);
        assert.match(e.message, /kf_alloc_write at .*arena_kfunc\.bpf\.c:\d+/); // the call's source line
        return true;
      });
    });

    it('without strict mode the same access runs (and, unmapped, takes the scratch path)', () => {
      const obj = load({ kfuncs: typed(0x8000n) });
      obj.program('kf_alloc_write').run();
      assert.match(obj.program('kf_alloc_write').streams.stderr.text,
        new RegExp(`^ERROR: Arena WRITE access at unmapped address 0x${PG(8).toString(16)}\\n`));
    });

    it('accesses within 32 KiB past the pointer pass; below the pointer is flagged', () => {
      const ok = load({ kfuncs: typed(0x7ffcn), strictKfuncContract: true });
      assert.doesNotThrow(() => ok.program('kf_alloc_write').run());
      const below = load({ kfuncs: typed(), strictKfuncContract: true });
      assert.throws(() => below.program('kf_lower_guard').run(),
        (e: unknown) => e instanceof KfuncContractError && e.offset === -8n && !(e instanceof KernelOopsError));
    });
  });

  it('typed kfuncs behave the same on both engines', () => {
    const outcome = (engine: 'interp' | 'jit') => {
      const obj = loadObject(OBJ, { engine, kfuncs: typed() });
      return obj.programs.filter((p) => p.spec.autoload).map((p) => {
        try { return [p.run().retval.toString(), p.streams.stderr.text]; } catch (e) { return [(e as BpfError).message]; }
      });
    };
    assert.deepEqual(outcome('jit'), outcome('interp'));
  });
});
