// __kconfig externs as libbpf resolves them (spec maps-and-kernel-objects §5.1, §5.2): the
// types it accepts, the .kconfig layout, the virtual LINUX_ values, CONFIG_ values from the
// loader (LoadOptions.kconfig, a Kconfig text) before the simulated kernel's config, and the
// refusals with libbpf's reasons.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ENGINES } from '../src/engines.js';
import { LoadError } from '../src/errors.js';
import { resolveKconfig } from '../src/loader/kconfig.js';
import { LoadOptions, loadObject, openObject } from '../src/object.js';
import { bpfrun } from './helpers.js';
import { PROJECT_ROOT } from './suite.js';

const KCONFIG = join(PROJECT_ROOT, 'progs', 'kconfig.bpf.o');

/** The program's copy of its externs (struct kc of kconfig.bpf.c). */
function read(options: LoadOptions) {
  const obj = loadObject(KCONFIG, options);
  obj.program('read_kconfig').run();
  const b = obj.global('kc').bytes;
  const v = new DataView(b.buffer, b.byteOffset);
  return {
    version: v.getUint32(0, true), wrapper: v.getUint32(4, true), cookie: v.getUint32(8, true), nrCpus: v.getInt32(12, true),
    hz: v.getBigUint64(16, true), jit: v.getUint32(24, true), conntrack: v.getUint32(28, true), ingress: String.fromCharCode(v.getUint32(32, true)),
    notSet: v.getUint32(36, true), unknown: v.getUint32(40, true), short: v.getInt32(44, true),
    localversion: Buffer.from(b.subarray(48, 64)).toString('latin1').replace(/\0+$/, ''),
  };
}

for (const engine of ENGINES) {
  describe(`kconfig externs [${engine}]`, () => {
    it('read the simulated kernel: Linux 7.2.13, its config, weak unknowns as 0', () => {
      assert.deepEqual(read({ engine }), {
        version: 0x07020d, wrapper: 1, cookie: 1, nrCpus: 8192, hz: 250n, jit: 1, conntrack: 2, ingress: 'm',
        notSet: 0, unknown: 0, short: 0, localversion: '',
      });
    });

    it('take the loader\'s values first, by the extern\'s type (bool, tristate, char, int, string)', () => {
      const got = read({
        engine,
        kconfig: { CONFIG_NR_CPUS: 4, CONFIG_BPF_JIT: 'n', CONFIG_NF_CONNTRACK: 'y', CONFIG_NET_SCH_INGRESS: 'y', CONFIG_LOCALVERSION: '"-bpfrun"', CONFIG_BPFRUN_SHORT: '-5' },
        kconfigText: { name: 'my.config', content: 'CONFIG_NR_CPUS=64\nCONFIG_BPFRUN_NOT_SET=0x10\n# CONFIG_HZ is not set\nCONFIG_HZ=1000\n' },
      });
      assert.deepEqual([got.nrCpus, got.jit, got.conntrack, got.ingress, got.localversion, got.short, got.notSet, got.hz],
        [4, 0, 1, 'y', '-bpfrun', -5, 16, 1000n]);
    });
  });
}

describe('kconfig externs: the refusals', () => {
  const load = (options: LoadOptions) => () => openObject(KCONFIG).load(options);
  it('a value of the wrong kind, out of range, or malformed, names the extern and libbpf\'s reason', () => {
    assert.throws(load({ kconfig: { CONFIG_BPF_JIT: 'm' } }), /extern CONFIG_BPF_JIT: value 'm' implies tristate or char type/);
    assert.throws(load({ kconfig: { CONFIG_NR_CPUS: 'y' } }), /extern CONFIG_NR_CPUS: value 'y' implies bool, tristate, or char type/);
    assert.throws(load({ kconfig: { CONFIG_BPF_JIT: '2' } }), /extern CONFIG_BPF_JIT: value '2' implies integer type/);
    assert.throws(load({ kconfig: { CONFIG_BPFRUN_SHORT: 70000 } }), /extern CONFIG_BPFRUN_SHORT: value '70000' doesn't fit in 2 bytes \(ERANGE\)/);
    assert.throws(load({ kconfig: { CONFIG_LOCALVERSION: '"open' } }), /invalid string config '"open'/);
    assert.throws(load({ kconfig: { CONFIG_NR_CPUS: '12abc' } }), /value '12abc' isn't a valid integer/);
  });

  it('a bad line of a Kconfig text names the line', () => {
    const text = (content: string) => load({ kconfigText: { name: 'my.config', content } });
    assert.throws(text('# comment\nCONFIG_A=1\nCONFIG_NR_CPUS\n'), (e: unknown) => e instanceof LoadError
      && e.message === "my.config:3: failed to parse 'CONFIG_NR_CPUS': no separator");
    assert.throws(text('CONFIG_NR_CPUS=\n'), /my\.config:1: failed to parse 'CONFIG_NR_CPUS=': no value/);
    assert.throws(text('CONFIG_BPF_JIT=m\n'), /my\.config:1: extern \(kcfg\) 'CONFIG_BPF_JIT': value 'm' implies tristate or char type/);
  });

  it('a strong CONFIG_ extern nothing sets is ESRCH; a strong unknown LINUX_ one is refused', () => {
    const slot = (name: string, weak: boolean) => ({ name, weak, offset: 0, type: 'int' as const, size: 4, align: 4, signed: true });
    const resolve = (name: string, weak: boolean) => () => resolveKconfig([slot(name, weak)], 4, { kernel: '', virtual: {} });
    assert.throws(resolve('CONFIG_MISSING', false), /extern CONFIG_MISSING: extern 'CONFIG_MISSING' \(strong\): not resolved \(ESRCH\)/);
    assert.deepEqual([...resolveKconfig([slot('CONFIG_MISSING', true)], 4, { kernel: '', virtual: {} })], [0, 0, 0, 0]);
    assert.throws(resolve('LINUX_NOPE', false), /extern LINUX_NOPE: unrecognized virtual extern/);
    assert.throws(resolve('OTHER', true), /must be named CONFIG_\* or LINUX_\*/);
  });

  it('lay the .kconfig map out as libbpf does: alignment descending, size ascending, then name', () => {
    const offsets = Object.fromEntries(openObject(KCONFIG).spec.externs.filter((e) => e.kind === 'kconfig').map((e) => [e.name, e.offset]));
    assert.deepEqual(offsets, {
      CONFIG_HZ: 0, CONFIG_BPFRUN_NOT_SET: 8, CONFIG_NF_CONNTRACK: 12, CONFIG_NR_CPUS: 16, LINUX_BPFRUN_UNKNOWN: 20, LINUX_KERNEL_VERSION: 24,
      CONFIG_BPFRUN_SHORT: 28, CONFIG_BPF_JIT: 30, CONFIG_NET_SCH_INGRESS: 31, LINUX_HAS_BPF_COOKIE: 32, LINUX_HAS_SYSCALL_WRAPPER: 33,
      CONFIG_LOCALVERSION: 34,
    });
  });
});

describe('bpfrun --kconfig and --kconfig-file', () => {
  it('set externs from the command line and from a .config file; a bad line names the file and line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bpfrun-kconfig-'));
    const file = join(dir, 'x.config');
    writeFileSync(file, 'CONFIG_NR_CPUS=16\nCONFIG_NF_CONNTRACK=n\n');
    const r = bpfrun(['run', KCONFIG, '--kconfig', 'CONFIG_NR_CPUS=2', '--kconfig-file', file, '--json']);
    assert.equal(r.status, 0, r.stderr);
    const hex = JSON.parse(r.stdout).globals.kc.hex as string;
    const b = Buffer.from(hex, 'hex');
    assert.deepEqual([b.readInt32LE(12), b.readUInt32LE(28)], [2, 0]);
    writeFileSync(file, 'CONFIG_NR_CPUS=16\nCONFIG_BPF_JIT=m\n');
    const bad = bpfrun(['run', KCONFIG, '--kconfig-file', file]);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /x\.config:2: extern \(kcfg\) 'CONFIG_BPF_JIT': value 'm' implies tristate or char type/);
  });
});
