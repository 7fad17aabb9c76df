// The limits a run and the command line keep: the default instruction budget (API and CLI), and
// file-system errors as one line naming the file and the errno.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assemble } from '../src/asm/assembler.js';
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

  it('is 10^8 instructions, for Program.run and the raw runner alike (one constant; the exec test below runs it)', () => {
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

    it(`bpfrun run --timeout ends a program that runs too long (${engine})`, () => {
      const spin = bpfrun(['run', 'progs/spin.bpf.o', '--engine', engine, '--budget', 'none', '--timeout', '0.2']);
      assert.equal(spin.status, 1, spin.stderr);
      assert.match(spin.stdout, /^spin_forever \(syscall\): error: program spin_forever: instruction \d+: run timed out after 200 ms \(\d+ instructions\) \(spin_forever at \.\/progs\/spin\.bpf\.c:\d+/m);
      for (const bad of ['0', '0.0', 'soon']) {
        const r = bpfrun(['run', 'progs/spin.bpf.o', '--timeout', bad]);
        assert.equal(r.status, 2, bad);
        assert.match(r.stderr, /--timeout must be a positive number of seconds/);
      }
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

describe('bpfrun file errors: one line naming the file and the errno, exit 1', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'bpfrun-fs-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** Runs bpfrun and asserts exit 1 with exactly one stderr line matching `line`. */
  const fails = (args: string[], line: RegExp): void => {
    const r = bpfrun(args);
    assert.equal(r.status, 1, `bpfrun ${args.join(' ')}: ${r.stderr}`);
    const lines = r.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], line);
    assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
  };
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  /** The one line: `why` is the errno (its description is then any) or the whole reason. */
  const cannot = (action: string, file: string, why: string) =>
    new RegExp(`^bpfrun: cannot ${action} ${escape(file)}: ${why}${/^E[A-Z]+$/.test(why) ? ' \\(.+\\)' : ''}$`);

  it('ENOENT and ENOTDIR, for every kind of input', () => {
    const missing = join(dir, 'missing.o');
    fails(['run', missing], cannot('read', missing, 'ENOENT \\(no such file or directory\\)'));
    fails(['info', '/dev/null/x.o'], cannot('read', '/dev/null/x.o', 'ENOTDIR \\(not a directory\\)'));
    fails(['disasm', '/dev/null/x.o'], cannot('read', '/dev/null/x.o', 'ENOTDIR'));
    fails(['exec', '/dev/null/x.s'], cannot('read', '/dev/null/x.s', 'ENOTDIR'));
    fails(['asm', '/dev/null/x.s'], cannot('read', '/dev/null/x.s', 'ENOTDIR'));
    fails(['inspect', '/dev/null/x.pb'], cannot('read', '/dev/null/x.pb', 'ENOTDIR'));
    fails(['tracelog', 'stdout', '/dev/null/x.pb'], cannot('read', '/dev/null/x.pb', 'ENOTDIR'));
    fails(['run-raw', '/dev/null/x.bin', '--mem', '/dev/null'], cannot('read', '/dev/null/x.bin', 'ENOTDIR'));
    const bin = join(dir, 'ok.bin');
    writeFileSync(bin, encode(assemble('exit')));
    fails(['run-raw', bin, '--mem', '/dev/null/m'], cannot('read', '/dev/null/m', 'ENOTDIR'));
    fails(['run', 'progs/loops.bpf.o', '--kfuncs', '/dev/null/k.mjs'], cannot('read', '/dev/null/k.mjs', 'ENOTDIR'));
  });

  it('ENAMETOOLONG and ELOOP', () => {
    const long = join(dir, `${'a'.repeat(300)}.o`);
    fails(['info', long], cannot('read', long, 'ENAMETOOLONG \\(name too long\\)'));
    const l1 = join(dir, 'l1.o');
    const l2 = join(dir, 'l2.o');
    symlinkSync(l2, l1);
    symlinkSync(l1, l2);
    fails(['run', l1], cannot('read', l1, 'ELOOP \\(too many symbolic links encountered\\)'));
    fails(['exec', l2], cannot('read', l2, 'ELOOP'));
  });

  it('a FIFO, a device or a directory as an input is refused before it is read', () => {
    const fifo = join(dir, 'fifo.o');
    const made = spawnSync('mkfifo', [fifo]);
    assert.equal(made.status, 0, String(made.stderr));
    // Reading would wait for a writer forever: the check comes first.
    fails(['run', fifo], cannot('read', fifo, 'not a regular file \\(a FIFO\\)'));
    fails(['info', fifo], cannot('read', fifo, 'not a regular file \\(a FIFO\\)'));
    fails(['exec', fifo], cannot('read', fifo, 'not a regular file \\(a FIFO\\)'));
    fails(['run', 'progs/loops.bpf.o', '--kfuncs', fifo], cannot('read', fifo, 'not a regular file \\(a FIFO\\)'));
    fails(['exec', '/dev/zero'], cannot('read', '/dev/zero', 'not a regular file \\(a character device\\)'));
    fails(['run-raw', '/dev/zero', '--mem', '/dev/zero'], cannot('read', '/dev/zero', 'not a regular file \\(a character device\\)'));
    const sub = join(dir, 'sub.s');
    mkdirSync(sub);
    fails(['exec', sub], cannot('read', sub, 'EISDIR \\(is a directory\\)'));
    // Standard input stays allowed where it was.
    const asm = bpfrun(['asm', '-'], 'exit\n');
    assert.equal(asm.status, 0, asm.stderr);
    assert.equal(asm.stdout, '95 00 00 00 00 00 00 00\n');
  });

  it('a file of 1 GiB or more is refused before it is read', () => {
    const huge = join(dir, 'huge.o');
    // Sparse: no disk space, and never read.
    const made = spawnSync('truncate', ['-s', '2G', huge]);
    assert.equal(made.status, 0, String(made.stderr));
    fails(['info', huge], cannot('read', huge, 'EFBIG \\(2147483648 bytes; input files must be smaller than 1 GiB\\)'));
    fails(['inspect', huge], cannot('read', huge, 'EFBIG .*'));
  });

  it('--record to a full device: ENOSPC, after the report', () => {
    const r = bpfrun(['run', 'progs/loops.bpf.o', '--prog', 'loop_plain', '--record', '/dev/full']);
    assert.equal(r.status, 1);
    assert.match(r.stdout, /loop_plain/);
    assert.equal(r.stderr, 'bpfrun: cannot write /dev/full: ENOSPC (no space left on device)\n');
    fails(['run', 'progs/loops.bpf.o', '--record', join(dir, 'no-dir', 'r.pb')],
      cannot('write', join(dir, 'no-dir', 'r.pb'), 'ENOENT \\(no such file or directory\\)'));
  });
});
