// Tracing programs under BPF_PROG_TEST_RUN (spec program-types §1.8): the kernel does not run
// the program under test; fentry/fexit answer 0, fmod_ret 0x20021, tp_btf EFAULT. The direct
// mode (tracingArgs) runs the program on an argument array instead.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ENGINES } from '../src/engines.js';
import { TestRunError } from '../src/errors.js';
import { loadObject } from '../src/object.js';
import { PROJECT_ROOT } from './suite.js';

const TRACING = join(PROJECT_ROOT, 'progs', 'tracing.bpf.o');

for (const engine of ENGINES) {
  describe(`tracing test runs [${engine}]`, () => {
    const runs = (obj: ReturnType<typeof loadObject>) => new DataView(obj.global('tr').bytes.buffer, obj.global('tr').bytes.byteOffset);

    it('fentry: retval 0 and the program does not run; data is ignored; flags are EINVAL', () => {
      const obj = loadObject(TRACING, { engine });
      const p = obj.program('on_test2');
      assert.equal(p.testRun().retval, 0);
      assert.equal(p.testRun({ data: new Uint8Array(16) }).retval, 0);
      assert.equal(runs(obj).getBigUint64(0, true), 0n);
      assert.throws(() => p.testRun({ flags: 1 }), (e: unknown) => e instanceof TestRunError && e.errno === 22);
    });

    it('fmod_ret: (side_effect 2 << 16) | 33 with nothing attached; tp_btf: EFAULT', () => {
      const obj = loadObject(TRACING, { engine });
      assert.equal(obj.program('on_modify').testRun().retval, 0x20021);
      assert.throws(() => obj.program('on_sys_enter').testRun(), (e: unknown) => e instanceof TestRunError && e.errno === 14);
      assert.equal(runs(obj).getBigUint64(0, true), 0n);
    });

    it('the direct mode runs the program on an argument array', () => {
      const obj = loadObject(TRACING, { engine });
      assert.equal(obj.program('on_test2').testRun({ tracingArgs: [2n, 3n] }).retval, 0);
      assert.deepEqual([0, 8, 16].map((o) => runs(obj).getBigUint64(o, true)), [1n, 2n, 3n]);
    });
  });
}
