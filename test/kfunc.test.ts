// Typed kfuncs in TypeScript: argument decoding as the kernel passes them, the load-time check
// against the object's BTF prototype, and the strict GUARD_SZ / 2 contract.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DEFAULT_ENGINE, EngineName, ENGINES } from '../src/engines.js';
import { BpfError, KernelOopsError, KfuncContractError, LoadError } from '../src/errors.js';
import { defineKfunc, KfuncImpl, KfuncSpec } from '../src/kfunc/api.js';
import { loadObject, LoadOptions } from '../src/object.js';
import { loadEvery, refTestKfuncs, withCallbackKfunc } from './helpers.js';
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

const load = (options: LoadOptions) => loadEvery(OBJ, { engine: DEFAULT_ENGINE, ...options });

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
    const ret = defineKfunc({ name: 'bpfrun_test_arena_read', args: ['arena'], ret: 'pointer', impl: () => 0 });
    assert.throws(() => load({ kfuncs: [...typed().filter((k) => k.name !== 'bpfrun_test_arena_read'), ret] }),
      /the return is declared scalar \(.+\) but defined 'pointer'/);
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
        assert.equal(e.kind, 'kfunc-contract');
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

    describe('a kfunc called from a BPF callback while another runs (kfunc_nested.bpf.o)', () => {
      const NESTED = join(PROJECT_ROOT, 'progs', 'kfunc_nested.bpf.o');
      const typedRead = typed().find((k) => k.name === 'bpfrun_test_arena_read')!;
      /** The outer kfunc reads `after` bytes past its argument once the callback has returned. */
      const nested = (engine: 'interp' | 'jit', after: bigint, inner: KfuncSpec | KfuncImpl = typedRead) =>
        loadObject(NESTED, {
          engine, strictKfuncContract: true, kfuncs: { bpfrun_test_with_callback: withCallbackKfunc(after), bpfrun_test_arena_read: inner },
        }).program('nested');

      for (const engine of ['interp', 'jit'] as const) {
        it(`[${engine}] each call is checked against its own arguments: the inner read, 48 KiB past the outer argument, passes`, () => {
          assert.equal(nested(engine, 0n).run().retval, 0x1234n);
        });

        it(`[${engine}] the outer call's check applies again once the inner call returns`, () => {
          assert.throws(() => nested(engine, 0x8000n).run(), (e: unknown) => {
            assert.ok(e instanceof KfuncContractError);
            assert.equal(e.site.kfunc, 'bpfrun_test_with_callback');
            assert.deepEqual([e.argument, e.offset], [0, 0x8000n]);
            return true;
          });
        });

        it(`[${engine}] a plain kfunc called from the callback is not checked against its caller's arguments`, () => {
          const plainRead: KfuncImpl = (ctx, k) => k.readU32(k.arenaKernAddr(ctx.arg(1)));
          assert.equal(nested(engine, 0n, plainRead).run().retval, 0x1234n);
        });
      }
    });
  });

  it('typed kfuncs behave the same on both engines', () => {
    const outcome = (engine: EngineName) => {
      const obj = loadObject(OBJ, { engine, kfuncs: typed() });
      return obj.programs.filter((p) => p.spec.autoload).map((p) => {
        try { return [p.run().retval.toString(), p.streams.stderr.text]; } catch (e) { return [(e as BpfError).message]; }
      });
    };
    const [first, ...rest] = ENGINES.map(outcome);
    for (const other of rest) assert.deepEqual(other, first);
  });

  describe('flags: KF_ACQUIRE / KF_RELEASE references, KF_SLEEPABLE', () => {
    const REFS = join(PROJECT_ROOT, 'progs', 'kfunc_refs.bpf.o');

    for (const engine of ENGINES) {
      it(`[${engine}] a released reference and a NULL one end cleanly; a leak and a double release are errors`, () => {
        const obj = loadObject(REFS, { engine, kfuncs: refTestKfuncs() });
        assert.equal(obj.program('refs_balanced').run().retval, 0n);
        assert.equal(obj.program('refs_null').run().retval, 0n);
        assert.throws(() => obj.program('refs_leak').run(), (e: unknown) => {
          assert.ok(e instanceof BpfError);
          assert.match(e.message, /Unreleased reference id=2 alloc_insn=\d+/);
          assert.match(e.message, /bpfrun_test_acquire\(3\)/); // located at the second acquire's source line
          return true;
        });
        assert.throws(() => obj.program('refs_double_release').run(),
          /release kernel function bpfrun_test_release expects refcounted PTR_TO_BTF_ID/);
        // Each run starts with no references: the leak above does not poison the next run.
        assert.equal(obj.program('refs_balanced').run().retval, 0n);
      });
    }

    it('a sleepable kfunc called from a non-sleepable program is a load error naming both', () => {
      assert.equal(loadObject(REFS, { kfuncs: refTestKfuncs(false) }).program('tc_sleepy').run({ data: new Uint8Array(14), ctx: new Uint8Array(192) }).retval, 2n);
      assert.throws(() => loadObject(REFS, { kfuncs: refTestKfuncs(true) }), (e: unknown) => {
        assert.ok(e instanceof LoadError);
        assert.match(e.message, /program tc_sleepy.*insn \d+: program must be sleepable to call sleepable kfunc bpfrun_test_sleepy \(.*kfunc_refs\.bpf\.c:\d+\)/);
        return true;
      });
    });
  });

  it('the kernel handle reads and writes bytes, 16-bit integers and strings; a string read stops at its NUL, page by page', () => {
    const seen: unknown[] = [];
    const kfuncs = [
      defineKfunc({
        name: 'bpfrun_test_arena_write', args: ['arena', 'scalar'], ret: 'scalar',
        impl: ({ args: [p], kernel }) => {
          const a = (p as { address: bigint }).address; // PG(0) + 0x10, an allocated page
          kernel.writeString(a, 'h\xe9llo');
          kernel.writeU16(a + 8n, 0xbeef);
          kernel.writeU8(a + 10n, 0x1ff); // truncated to a byte, as a u8 store
          seen.push(kernel.readString(a, 64), kernel.readString(a, 3), kernel.readU8(a + 1n), kernel.readU16(a + 8n), kernel.readU8(a + 10n));
          const end = a - 0x10n + 0xffdn; // the last 3 bytes of the page, no NUL: the read goes on into PG(1)
          kernel.write(end, Uint8Array.from([0x61, 0x62, 0x63]));
          seen.push(kernel.readString(end, 100));
          return 0;
        },
      }),
      ...typed().slice(1),
    ];
    const obj = loadObject(OBJ, { kfuncs });
    obj.program('kf_alloc_write').run();
    assert.deepEqual(seen, ['h\xe9llo', 'h\xe9l', 0xe9, 0xbeef, 0xff, 'abc']);
    // PG(1) was never allocated: the string read took the scratch page (zeros: the NUL) and was reported.
    assert.match(obj.program('kf_alloc_write').streams.stderr.text, /^ERROR: Arena READ access at unmapped address 0x100000001000\n/);
  });
});
