// The command line, run as a user runs it: a child process with stdin, stdout and exit status.
import assert from 'node:assert/strict';
import { DEFAULT_ENGINE } from '../src/engines.js';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bpfrun, CLI } from './helpers.js';
import { PROJECT_ROOT, SUITE_DIR } from './suite.js';
import { assemble } from '../src/asm/assembler.js';
import { encode } from '../src/isa/instruction.js';


describe('bpfrun CLI', () => {
  it('--help lists the subcommands', () => {
    const r = bpfrun(['--help']);
    assert.equal(r.status, 0);
    for (const cmd of ['exec', 'asm', 'disasm', 'conformance-plugin']) assert.match(r.stdout, new RegExp(`bpfrun ${cmd}`));
  });

  it('exec runs the bundled example', () => {
    const r = bpfrun(['exec', 'progs/asm/fib.s']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /r0 = 0x27f80ddaa1ba7878 \(2880067194370816120\)/);
  });

  it('exec passes --mem as r1/r2', () => {
    const r = bpfrun(['exec', 'progs/asm/checksum.s', '--mem', '0100000002000000ffffffff']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /r0 = 0x100000002/);
  });

  it('asm prints one slot of hex bytes a line, and disasm reads it back', () => {
    const asm = bpfrun(['asm', '-'], 'lddw %r0, 0x1122334455667788\nexit\n');
    assert.equal(asm.status, 0, asm.stderr);
    assert.deepEqual(asm.stdout.trim().split('\n'), [
      '18 00 00 00 88 77 66 55', '00 00 00 00 44 33 22 11', '95 00 00 00 00 00 00 00',
    ]);
    const dis = bpfrun(['disasm', '-'], asm.stdout);
    assert.equal(dis.status, 0, dis.stderr);
    assert.match(dis.stdout, /r0 = 1234605616436508552 ll/);
    assert.match(dis.stdout, /exit/);
  });

  it('conformance-plugin speaks the suite protocol (program on stdin, memory as hex, r0 in hex)', () => {
    const test = readFileSync(join(SUITE_DIR, 'tests', 'ldxdw.data'), 'utf8');
    const asm = /-- asm\n([\s\S]*?)\n--/.exec(test)![1];
    const mem = /-- mem\n([\s\S]*?)\n--/.exec(test)![1].replace(/\s+/g, '');
    const expected = /-- result\n(\S+)/.exec(test)![1];
    const bytes = bpfrun(['asm', '-'], asm).stdout.replace(/\n/g, ' ');
    const r = bpfrun(['conformance-plugin', mem], bytes);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(BigInt('0x' + r.stdout.trim()), BigInt(expected));
  });

  it('run loads a clang-built object and reports programs, globals and trace (text and JSON)', () => {
    const text = bpfrun(['run', 'progs/globals.bpf.o']);
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /loop_sum \(syscall\): retval 129 \(129\)/);
    assert.match(text.stdout, /loop_sum\.runs +\.data +101/);
    assert.match(text.stdout, /trace:\n  loop_sum 129 runs 101/);
    const json = bpfrun(['run', 'progs/globals.bpf.o', '--prog', 'loop_sum', '--json']);
    assert.equal(json.status, 0, json.stderr);
    const report = JSON.parse(json.stdout);
    assert.deepEqual(report.programs, [{ name: 'loop_sum', section: 'syscall', retval: '129', insns: report.programs[0].insns }]);
    assert.ok(report.programs[0].insns > 100);
    assert.deepEqual(report.globals['loop_sum.runs'], { section: '.data', hex: '65000000', value: '101' });
    assert.deepEqual(report.globals.v_s64, { section: '.data', hex: '000efad5feffffff', value: '-5000000000' }); // its initial value
  });

  it('run reports a failing program with its source line and exits 1', () => {
    const r = bpfrun(['run', 'progs/kfuncs.bpf.o', '--prog', 'call_missing']);
    assert.equal(r.status, 1);
    assert.match(r.stdout, /call_missing \(syscall\): error: .*unknown kfunc bpf_definitely_missing_kfunc .*kfuncs\.bpf\.c:\d+/);
  });

  it('disasm --emit-js shows the JavaScript the JIT runs and its exception table', () => {
    const r = bpfrun(['disasm', 'progs/subprog.bpf.o', '--emit-js', '--prog', 'prog_a']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^\/\/ prog_a: \d+ exception-table entries, compiled in [\d.]+ ms$/m);
    assert.match(r.stdout, /^\/\/   site 0: insn \d+ (read|write|atomic) \d bytes/m);
    assert.match(r.stdout, /^function F0\(depth\) \{$/m);
    assert.doesNotMatch(r.stdout, /prog_b/);
  });

  it('run --json reports every program\'s streams and the arena', () => {
    const r = bpfrun(['run', 'progs/streams.bpf.o', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    assert.deepEqual(report.streams.stream_print, { stdout: 'hello stream 42\nname=bpf n=7\n', stderr: 'warn 0xbeef\n' });
    assert.match(report.streams.stream_fault.stderr, /^ERROR: Arena WRITE access at unmapped address 0x100000008010\nCPU: 0 UID: 0 PID: 1 Comm: bpfrun\nCall trace:\n/);
    assert.deepEqual(Object.keys(report.arena), ['user_vm_start', 'kern_vm_start', 'globals_offset', 'pages_allocated', 'pages_scratched']);
    assert.equal(report.arena.user_vm_start, '0x100000000000');
    assert.equal(report.arena.pages_allocated, 1);
    const start = JSON.parse(bpfrun(['run', 'progs/arena.bpf.o', '--json', '--arena-globals', 'start']).stdout);
    assert.equal(start.arena.globals_offset, 0);
    assert.equal(start.globals.user_ptr.value, String(0x100000001000n));
    // Linux 6.18 (no full-range ld_imm64 offsets) puts them at the start too; --arena-globals overrides it.
    assert.equal(JSON.parse(bpfrun(['run', 'progs/arena.bpf.o', '--json', '--kernel', '6.18']).stdout).arena.globals_offset, 0);
    assert.equal(JSON.parse(bpfrun(['run', 'progs/arena.bpf.o', '--json', '--kernel', '6.18', '--arena-globals', 'end']).stdout).arena.globals_offset, 15 * 4096);
    const end = JSON.parse(bpfrun(['run', 'progs/arena.bpf.o', '--json']).stdout);
    assert.equal(end.arena.globals_offset, 15 * 4096);
    assert.equal(end.globals.arena_sum.value, '465');
  });

  it('run --kfuncs loads kfuncs written in JavaScript (the examples)', () => {
    const mask = bpfrun(['run', 'progs/example_cpumask.bpf.o', '--kfuncs', 'examples/cpumask-kfunc.mjs', '--json']);
    assert.equal(mask.status, 0, mask.stderr);
    const m = JSON.parse(mask.stdout);
    assert.equal(m.programs[0].retval, '0');
    assert.equal(m.globals.mask_word0.value, '1023');
    assert.equal(m.streams.fill_mask.stdout, 'cpus 0-9 of 256: mask[0] = 0x3ff, mask[1..3] = 0 0 0\n');
    const obo = bpfrun(['run', 'progs/example_off_by_one.bpf.o', '--kfuncs', 'examples/off-by-one-kfunc.mjs', '--json']);
    assert.equal(obo.status, 0, obo.stderr);
    const o = JSON.parse(obo.stdout);
    assert.equal(o.streams.fill_tail.stdout, 'tail[15] = 0x2a\n');
    assert.match(o.streams.fill_tail.stderr,
      /^ERROR: Arena WRITE access at unmapped address 0x100000001000\nCPU: 0 UID: 0 PID: 1 Comm: bpfrun\nCall trace:\nbpfrun_example_fill_bytes\+0x0\/0x0\nbpf_prog_[0-9a-f]{16}_fill_tail\+0x[0-9a-f]+\/0x[0-9a-f]+\n  ret = bpfrun_example_fill_bytes\(.*\); @ example_off_by_one\.bpf\.c:\d+\n\n$/);
    assert.equal(o.arena.pages_scratched, 1);
  });

  it('run --kfuncs loads a TypeScript module (transpiled where Node does not strip types), leaving nothing behind', () => {
    // Inside the package, so `bpfrun` resolves to this package as it does for the examples.
    const dir = mkdtempSync(join(PROJECT_ROOT, '.kfunc-ts-'));
    try {
      writeFileSync(join(dir, 'fill.ts'), [
        "import { defineKfunc, type KfuncCall } from 'bpfrun';",
        'export const fill = defineKfunc({',
        "  name: 'bpfrun_example_fill_bytes', args: ['arena', 'scalar', 'scalar'], ret: 'scalar',",
        '  impl({ args: [buf, len, value], kernel }: KfuncCall): number {',
        "    if (buf.kind !== 'arena' || buf.address === null || len.kind !== 'scalar' || value.kind !== 'scalar') throw new Error('args');",
        '    kernel.write(buf.address, new Uint8Array(Number(len.value)).fill(Number(value.value))); // no off-by-one',
        '    return 0;',
        '  },',
        '});',
      ].join('\n'));
      const r = bpfrun(['run', 'progs/example_off_by_one.bpf.o', '--kfuncs', join(dir, 'fill.ts'), '--json']);
      assert.equal(r.status, 0, r.stderr);
      const o = JSON.parse(r.stdout);
      assert.equal(o.streams.fill_tail.stdout, 'tail[15] = 0x2a\n');
      assert.equal(o.streams.fill_tail.stderr, ''); // the correct kfunc stays in its page
      assert.deepEqual(readdirSync(dir), ['fill.ts']);
      writeFileSync(join(dir, 'broken.ts'), 'export const = ;');
      const broken = bpfrun(['run', 'progs/example_off_by_one.bpf.o', '--kfuncs', join(dir, 'broken.ts')]);
      assert.equal(broken.status, 2);
      assert.match(broken.stderr, /broken\.ts: .*expected/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('run --kfuncs reports unusable modules; without the kfunc the weak extern fails only when called', () => {
    const missing = bpfrun(['run', 'progs/example_cpumask.bpf.o', '--kfuncs', 'examples/no-such.mjs']);
    assert.equal(missing.status, 1); // a file error, as for every input file
    assert.equal(missing.stderr, 'bpfrun: cannot read examples/no-such.mjs: ENOENT (no such file or directory)\n');
    const none = bpfrun(['run', 'progs/example_cpumask.bpf.o', '--kfuncs', 'examples/README.md']);
    assert.equal(none.status, 2);
    const without = bpfrun(['run', 'progs/example_cpumask.bpf.o']);
    assert.equal(without.status, 1);
    assert.match(without.stdout, /unknown kfunc bpfrun_example_fill_cpumask/);
  });

  it('info and disasm describe an object', () => {
    const info = bpfrun(['info', 'progs/maps.bpf.o']);
    assert.equal(info.status, 0, info.stderr);
    assert.match(info.stdout, /jmp_table +prog_array +key 4 +value 4 +max_entries 2/);
    assert.match(info.stdout, /use_tail_call +section raw_tp +type raw_tracepoint/);
    const dis = bpfrun(['disasm', 'progs/subprog.bpf.o']);
    assert.equal(dis.status, 0, dis.stderr);
    assert.match(dis.stdout, /^prog_a \(section syscall, syscall\):/m);
    assert.match(dis.stdout, /call \d+\t# global_add/);
    assert.match(dis.stdout, /# bpf_loop/);
    assert.match(dis.stdout, /^; .*\[subprog\.bpf\.c:\d+\]$/m);
  });

  it('a corrupt object is a load error, not a crash', () => {
    const r = spawnSync(process.execPath, [CLI, 'run', '/dev/null/x.o'], { encoding: 'utf8' });
    assert.equal(r.status, 1);
    const truncated = join(PROJECT_ROOT, 'dist', 'truncated.o');
    writeFileSync(truncated, readFileSync(join(PROJECT_ROOT, 'progs', 'globals.bpf.o')).subarray(0, 100));
    const t = bpfrun(['run', truncated]);
    assert.equal(t.status, 1);
    assert.match(t.stderr, /^bpfrun: .*(section header table|truncated)/);
  });

  it('errors go to stderr with a non-zero status', () => {
    const bad = bpfrun(['conformance-plugin'], 'b7 00 00');
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /not a multiple of 8/);
    const invalid = bpfrun(['conformance-plugin'], 'ff 00 00 00 00 00 00 00 95 00 00 00 00 00 00 00');
    assert.equal(invalid.status, 1);
    assert.match(invalid.stderr, /invalid instruction 0: unknown opcode 0xff/);
    const asmErr = bpfrun(['asm', '-'], 'mov %r0, 1\nfrob %r1\n');
    assert.equal(asmErr.status, 1);
    assert.match(asmErr.stderr, /line 2: Invalid mnemonic: frob/);
    const usage = bpfrun(['frobnicate']);
    assert.equal(usage.status, 2);
    assert.match(usage.stderr, /unknown command 'frobnicate'/);
    const missing = bpfrun(['exec', 'no-such-file.s']);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /no such file/);
  });
});

describe('bpfrun run-raw', () => {
  const dir = join(PROJECT_ROOT, 'dist');
  const write = (name: string, bytes: Uint8Array): string => {
    const file = join(dir, name);
    writeFileSync(file, bytes);
    return file;
  };
  // r0 = sum of the input's u32s; mem[0] is incremented in place, which a repeat must not see.
  const sumBin = () => write('run-raw-sum.bin', encode(assemble(`
    mov %r0, 0
    mov %r3, %r1
    add %r3, %r2
  loop:
    jge %r1, %r3, done
    ldxw %r4, [%r1]
    add %r0, %r4
    add %r1, 4
    ja loop
  done:
    exit`)));
  const memFile = () => write('run-raw-sum.mem', Uint8Array.from([1, 0, 0, 0, 2, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]));

  it('runs raw bytecode with r1/r2 = a copy of the memory file and reports r0, instructions and time', () => {
    const r = bpfrun(['run-raw', sumBin(), '--mem', memFile()]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^r0 = 0x100000002 \(4294967298\)$/m);
    assert.match(r.stdout, /^20 instructions$/m);
    assert.match(r.stdout, /median \d+\.\d{3} ms per run over 1 run \(jit/);
  });

  it('--repeat runs on fresh memory each time; --json is machine-readable', () => {
    const bin = write('run-raw-inc.bin', encode(assemble('ldxb %r0, [%r1]\nadd %r0, 1\nstxb [%r1], %r0\nexit')));
    const mem = write('run-raw-inc.mem', Uint8Array.from([41]));
    const r = bpfrun(['run-raw', bin, '--mem', mem, '--repeat', '5', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    assert.deepEqual({ ...report, medianNs: 0 },
      { engine: DEFAULT_ENGINE, r0: '42', r0Hex: '0x2a', instructions: 4, repeat: 5, medianNs: 0 });
    assert.ok(Number.isInteger(report.medianNs) && report.medianNs > 0);
  });

  it('runtime errors exit 1, usage errors exit 2', () => {
    const oob = write('run-raw-oob.bin', encode(assemble('ldxdw %r0, [%r1+8]\nexit')));
    const mem = write('run-raw-oob.mem', new Uint8Array(8));
    const fault = bpfrun(['run-raw', oob, '--mem', mem]);
    assert.equal(fault.status, 1);
    assert.match(fault.stderr, /^bpfrun: instruction 0: read of 8 bytes at 0x[0-9a-f]+ (is outside every memory region|runs past the end of input)/);
    const odd = bpfrun(['run-raw', write('run-raw-odd.bin', new Uint8Array(12)), '--mem', mem]);
    assert.equal(odd.status, 1);
    assert.match(odd.stderr, /not a multiple of 8/);
    const loop = bpfrun(['run-raw', write('run-raw-loop.bin', encode(assemble('ja -1\nexit'))), '--mem', mem, '--budget', '1000']);
    assert.equal(loop.status, 1);
    assert.match(loop.stderr, /budget of 1000 exhausted/);
    assert.equal(bpfrun(['run-raw', oob]).status, 2);
    assert.match(bpfrun(['run-raw', oob]).stderr, /needs --mem FILE/);
    assert.equal(bpfrun(['run-raw', oob, '--mem', mem, '--repeat', '0']).status, 2);
    assert.equal(bpfrun(['run-raw', oob, '--mem', mem, '--engine', 'turbo']).status, 2);
    assert.equal(bpfrun(['run-raw', 'no-such.bin', '--mem', mem]).status, 1);
  });
});
