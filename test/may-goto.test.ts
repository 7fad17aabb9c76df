// may_goto as x86-64's JIT runs it (spec maps-and-kernel-objects §6.6): a frame's count of 0xffff
// refilled until 250 ms of virtual time (100 ns a may_goto) have passed since its first refill,
// then the loop ends and the program's stderr gets the kernel's timeout report with the stack.
// Raw engines (no program) keep the interpreter's budget of BPF_MAX_LOOPS: test/interp.test.ts.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ENGINES } from '../src/engines.js';
import { loadObject } from '../src/object.js';
import { BPF_MAX_TIMED_LOOPS, MAY_GOTO_TIMEOUT_REFILLS } from '../src/shell.js';
import { PROJECT_ROOT } from './suite.js';

const MAY_GOTO = join(PROJECT_ROOT, 'progs', 'may_goto.bpf.o');

for (const engine of ENGINES) {
  describe(`timed may_goto [${engine}]`, () => {
    it('an endless can_loop ends after 250 ms of virtual time, with the timeout report and the stack on stderr', () => {
      const obj = loadObject(MAY_GOTO, { engine });
      const p = obj.program('spin_main');
      assert.equal(p.run().retval, 0n);
      assert.equal(MAY_GOTO_TIMEOUT_REFILLS, 40);
      assert.equal(obj.global('spins').value, BigInt(BPF_MAX_TIMED_LOOPS * MAY_GOTO_TIMEOUT_REFILLS));
      const text = p.streams.stderr.readAll();
      assert.match(text, /^ERROR: Timeout detected for may_goto instruction\nCPU: 0 UID: 0 PID: 1 Comm: bpfrun\nCall trace:\n/);
      assert.match(text, /\nbpf_prog_[0-9a-f]{16}_spin\+0x[0-9a-f]+\/0x[0-9a-f]+\n {2}while \(can_loop\) @ may_goto\.bpf\.c:22\n/);
      assert.match(text, /\nbpf_prog_[0-9a-f]{16}_spin_main\+0x[0-9a-f]+\/0x[0-9a-f]+\n {2}spins = spin\(\); @ may_goto\.bpf\.c:30\n\n$/);
    });

    it('every run starts the frames\' counts and clocks afresh', () => {
      const obj = loadObject(MAY_GOTO, { engine });
      const p = obj.program('spin_main');
      p.run();
      p.streams.stderr.readAll();
      p.run();
      assert.equal(obj.global('spins').value, BigInt(BPF_MAX_TIMED_LOOPS * MAY_GOTO_TIMEOUT_REFILLS));
      assert.match(p.streams.stderr.readAll(), /Timeout detected for may_goto instruction/);
    });
  });
}
