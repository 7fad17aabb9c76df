// The limits a run and the command line keep: the default instruction budget (API and CLI).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assemble } from '../src/asm/assembler.js';
import { DEFAULT_BUDGET } from '../src/conformance.js';
import { ENGINES } from '../src/engines.js';
import { BudgetExceededError } from '../src/errors.js';
import { encode } from '../src/isa/instruction.js';
import { loadObject } from '../src/object.js';
import { DEFAULT_INSTRUCTION_BUDGET } from '../src/program.js';
import { bpfrun } from './helpers.js';
import { PROJECT_ROOT } from './suite.js';

const SPIN = join(PROJECT_ROOT, 'progs', 'spin.bpf.o');
const LOOPS = join(PROJECT_ROOT, 'progs', 'loops.bpf.o');

describe('the instruction budget', function () {
  // A runaway program runs the whole default budget (10^8 instructions) on each engine.
  this.timeout(60_000);

  it('is one constant: Program.run and the raw runner share it', () => {
    assert.equal(DEFAULT_BUDGET, DEFAULT_INSTRUCTION_BUDGET);
    assert.equal(DEFAULT_INSTRUCTION_BUDGET, 100_000_000);
  });

  for (const engine of ENGINES) {
    it(`Program.run stops a program that never ends by default (${engine}), naming the instruction and source line`, () => {
      const prog = loadObject(SPIN).program('spin_forever');
      assert.throws(() => prog.run({ engine }), (e: unknown) => {
        assert.ok(e instanceof BudgetExceededError, String(e));
        assert.equal(e.budget, DEFAULT_INSTRUCTION_BUDGET);
        assert.match(e.message, /^program spin_forever: instruction \d+: instruction budget of 100000000 exhausted/);
        assert.equal(e.location?.file, './progs/spin.bpf.c');
        assert.match(e.location?.text ?? '', /while \(!stop\)|turns\+\+/);
        return true;
      });
    });

    it(`Program.run: an explicit budget, and Infinity lifts it (${engine})`, () => {
      const obj = loadObject(LOOPS);
      assert.throws(() => obj.program('loop_plain').run({ engine, instructionBudget: 50 }),
        (e: unknown) => e instanceof BudgetExceededError && e.budget === 50);
      assert.equal(obj.program('loop_plain').run({ engine, instructionBudget: Infinity }).retval, 329766n);
    });

    it(`bpfrun run: the default budget, --budget N and --budget none (${engine})`, () => {
      const spin = bpfrun(['run', 'progs/spin.bpf.o', '--engine', engine]);
      assert.equal(spin.status, 1, spin.stderr);
      assert.match(spin.stdout, /^spin_forever \(syscall\): error: program spin_forever: instruction \d+: instruction budget of 100000000 exhausted \(runaway loop\?\) \(spin_forever at \.\/progs\/spin\.bpf\.c:\d+:\d+: .+\)$/m);
      const small = bpfrun(['run', 'progs/spin.bpf.o', '--engine', engine, '--budget', '5000']);
      assert.equal(small.status, 1, small.stderr);
      assert.match(small.stdout, /instruction budget of 5000 exhausted .*spin\.bpf\.c:\d+/);
      const bounded = bpfrun(['run', 'progs/loops.bpf.o', '--prog', 'loop_plain', '--engine', engine, '--budget', '50']);
      assert.equal(bounded.status, 1);
      assert.match(bounded.stdout, /loop_plain \(syscall\): error: .*budget of 50 exhausted/);
      const lifted = bpfrun(['run', 'progs/loops.bpf.o', '--prog', 'loop_plain', '--engine', engine, '--budget', 'none']);
      assert.equal(lifted.status, 0, lifted.stderr);
      assert.match(lifted.stdout, /loop_plain \(syscall\): .*329766/);
    });

    it(`bpfrun exec and run-raw: a spinning program ends in the budget (${engine})`, () => {
      const dir = mkdtempSync(join(tmpdir(), 'bpfrun-budget-'));
      try {
        const spin = join(dir, 'spin.s');
        writeFileSync(spin, 'mov %r0, 0\nadd %r0, 1\nja -2\nexit\n');
        const byDefault = bpfrun(['exec', spin, '--engine', engine]);
        assert.equal(byDefault.status, 1);
        assert.match(byDefault.stderr, /^bpfrun: instruction \d: instruction budget of 100000000 exhausted/);
        const bin = join(dir, 'spin.bin');
        writeFileSync(bin, encode(assemble('ja -1\nexit')));
        const mem = join(dir, 'mem');
        writeFileSync(mem, new Uint8Array(8));
        const raw = bpfrun(['run-raw', bin, '--mem', mem, '--engine', engine, '--budget', '777']);
        assert.equal(raw.status, 1);
        assert.match(raw.stderr, /^bpfrun: instruction 0: instruction budget of 777 exhausted/);
        const ends = join(dir, 'ends.s');
        writeFileSync(ends, 'mov %r0, 3\nlsh %r0, 2\nexit\n');
        for (const budget of ['none', '3']) {
          const r = bpfrun(['exec', ends, '--engine', engine, '--budget', budget]);
          assert.equal(r.status, 0, r.stderr);
          assert.match(r.stdout, /r0 = 0xc \(12\)\n3 instructions/);
        }
        const endsBin = join(dir, 'ends.bin');
        writeFileSync(endsBin, encode(assemble('mov %r0, 7\nexit')));
        const rawNone = bpfrun(['run-raw', endsBin, '--mem', mem, '--engine', engine, '--budget', 'none']);
        assert.equal(rawNone.status, 0, rawNone.stderr);
        assert.match(rawNone.stdout, /r0 = 0x7 \(7\)\n2 instructions/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }

  it('--budget takes a positive integer or none (usage error, exit 2)', () => {
    for (const bad of ['0', '1.5', 'lots', '', '1e9']) {
      for (const cmd of [['exec', 'progs/asm/fib.s'], ['run', 'progs/loops.bpf.o'], ['run-raw', 'x.bin', '--mem', 'm']]) {
        const r = bpfrun([...cmd, `--budget=${bad}`]);
        assert.equal(r.status, 2, `${cmd[0]} --budget '${bad}'`);
        assert.match(r.stderr, /^bpfrun: --budget must be a positive integer or none/);
      }
    }
  });
});
