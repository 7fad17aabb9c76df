// Context accesses at load (src/isa/ctx-ptr.ts): found through copies, spills and call
// arguments as the verifier tracks PTR_TO_CTX, then validated by the program type's model
// (src/progtypes/), whose refusals are the verifier's "invalid bpf_context access".
import assert from 'node:assert/strict';
import { assemble } from '../src/asm/assembler.js';
import { InvalidInstructionError } from '../src/errors.js';
import { findContextAccesses } from '../src/isa/ctx-ptr.js';
import { validate } from '../src/isa/validate.js';
import { ContextSites } from '../src/progtypes/context.js';
import { skbContextModel } from '../src/progtypes/skb-context.js';
import { programTypeDef } from '../src/progtypes/index.js';

const accesses = (asm: string) => {
  const insns = assemble(asm);
  return [...findContextAccesses(insns, validate(insns)).values()];
};

describe('context accesses found at load', () => {
  it('through a copy, an 8-byte spill and its fill', () => {
    const found = accesses(`
      mov %r6, %r1
      stxdw [%r10-8], %r6
      ldxdw %r2, [%r10-8]
      ldxw %r0, [%r2+76]
      exit`);
    assert.deepEqual(found.map((a) => [a.slot, a.reg, a.off, a.size, a.kind]), [[3, 2, 76, 4, 'load']]);
  });

  it('through a spill and a fill by way of a register holding r10 plus a constant (a frame stack pointer)', () => {
    const found = accesses(`
      mov %r6, %r10
      add %r6, -16
      stxdw [%r6-8], %r1
      stxdw [%r6+8], %r1
      mov %r7, %r10
      ldxdw %r2, [%r7-24]
      ldxdw %r3, [%r10-8]
      ldxw %r0, [%r2+8]
      ldxw %r4, [%r3+32]
      exit`);
    assert.deepEqual(found.map((a) => [a.slot, a.reg, a.off]), [[7, 2, 8], [8, 3, 32]]);
  });

  it('not through a stack pointer of the caller read as the callee\'s own stack, nor after the slot is overwritten', () => {
    const found = accesses(`
      stxdw [%r10-8], %r1
      mov %r1, %r10
      add %r1, -8
      call local f
      mov %r6, %r10
      stdw [%r6-8], 0
      ldxdw %r2, [%r10-8]
      ldxw %r0, [%r2+0]
      exit
      f:
      ldxdw %r2, [%r10-8]
      ldxw %r0, [%r2+0]
      exit`);
    assert.deepEqual(found, []);
  });

  it('in a subprogram that gets the context as an argument, and not through r1 after a call clobbered it', () => {
    const found = accesses(`
      call local f
      ldxw %r0, [%r1+0]
      exit
      f:
      stw [%r1+8], 5
      mov %r0, 0
      exit`);
    assert.deepEqual(found.map((a) => [a.slot, a.kind]), [[3, 'store']]);
  });

  it('not where the context is only on some paths, nor through a pointer overwritten with a scalar', () => {
    const found = accesses(`
      mov %r2, %r1
      jeq %r3, 0, +1
      mov %r2, 0
      ldxw %r0, [%r2+0]
      mov %r1, 5
      ldxw %r0, [%r1+0]
      exit`);
    assert.deepEqual(found, []);
  });
});

describe('context models refuse what the verifier refuses', () => {
  const refuse = (family: Parameters<typeof skbContextModel>[0], asm: string, message: RegExp) => {
    const insns = assemble(asm);
    const sites = new ContextSites(skbContextModel(family), () => undefined);
    const found = [...findContextAccesses(insns, validate(insns)).values()];
    assert.throws(() => found.forEach((a) => sites.site(a)), (e: unknown) => e instanceof InvalidInstructionError && message.test(e.message));
  };

  it('a socket filter reading data: not accessible to its type', () =>
    refuse('socket', 'ldxw %r0, [%r1+76]\nexit', /invalid instruction 0: invalid bpf_context access off=76 size=4: data is not accessible/));
  it('a 2-byte write of mark: writes are the field\'s size', () =>
    refuse('tc', 'sth [%r1+8], 1\nmov %r0, 0\nexit', /off=8 size=2: mark must be written with 4 bytes/));
  it('a cgroup_skb program writing tc_index: read-only for its type', () =>
    refuse('cgroup', 'stw [%r1+44], 1\nmov %r0, 0\nexit', /tc_index is read-only for this program type/));
  it('a 2-byte read of data: pointer fields are read whole', () =>
    refuse('tc', 'ldxh %r0, [%r1+76]\nexit', /data must be read with 4 bytes/));
  it('an access through a modified context pointer', () =>
    refuse('tc', 'add %r1, 4\nldxw %r0, [%r1+0]\nexit', /dereference of modified ctx ptr R1 off=4 disallowed/));
  it('an atomic on the context', () =>
    refuse('tc', 'mov %r2, 1\nlock add32 [%r1+8], %r2\nmov %r0, 0\nexit', /atomic access to __sk_buff is not allowed/));

  it('xdp_md is read-only and read with 4 bytes', () => {
    const model = programTypeDef('xdp').context!;
    const insns = assemble('stw [%r1+16], 1\nldxb %r0, [%r1+12]\nexit');
    const [store, load] = [...findContextAccesses(insns, validate(insns)).values()];
    assert.equal(model.convert(store), 'xdp_md is read-only');
    assert.equal(model.convert(load), 'xdp_md fields must be read with 4 bytes');
  });
});
