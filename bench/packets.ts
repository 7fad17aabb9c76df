/**
 * Packets per second: progs/net_xdp.bpf.o's xdp_lb (Ethernet, IPv4, UDP, one hash-map lookup
 * and an atomic add) on each engine, against its C twin (bench/native/xdp_lb.c, gcc -O2).
 * Two figures per engine:
 *   - repeat: one BPF_PROG_TEST_RUN with `repeat`, the program run over and over on the same
 *     frame, as the kernel's test runs time a program;
 *   - per packet: one test run for each of 256 different frames, the frame built and the
 *     output copied each time (what `bpfrun test-run --pcap` does).
 * Every verdict is checked against the port table first, so a wrong parser fails the bench.
 */
import { join } from 'node:path';
import { EngineName, ENGINES } from '../src/engines.js';
import { loadObject } from '../src/object.js';

const PACKETS = 256;
const STRIDE = 64;
const PORTS = Array.from({ length: 64 }, (_, k) => 5000 + 3 * k);
const REPEAT = 200_000;
const PER_PACKET_ROUNDS = 20;
const RUNS = 5;
const XDP_PASS = 2, XDP_DROP = 1;

/** Frame k: UDP to a port of the table for even k, to one outside it for odd k. */
function frame(k: number): Uint8Array {
  const dport = k % 2 === 0 ? PORTS[(k / 2) % PORTS.length] : 6000 + k;
  const f = new Uint8Array(47);
  f.set([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00]);
  f.set([0x45, 0, 0, 33, 0x12, 0x34, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2], 14);
  f.set([0x04, 0xd2, dport >> 8, dport & 0xff, 0, 13, 0, 0], 34);
  f.set([0x68, 0x65, 0x6c, 0x6c, 0x6f], 42);
  return f;
}

/** The native twin's input: packet and port counts, the frames (length-prefixed, STRIDE apart), the ports. */
function nativeInput(frames: readonly Uint8Array[]): Uint8Array {
  const mem = new Uint8Array(4 + frames.length * STRIDE + 2 * PORTS.length);
  const v = new DataView(mem.buffer);
  v.setUint16(0, frames.length, true);
  v.setUint16(2, PORTS.length, true);
  frames.forEach((f, k) => { v.setUint16(4 + k * STRIDE, f.length, true); mem.set(f, 6 + k * STRIDE); });
  PORTS.forEach((p, k) => v.setUint16(4 + frames.length * STRIDE + 2 * k, p, true));
  return mem;
}

/** The C twin through the runner of bench/run.ts: best ns for `rounds` passes, checked against `hits`. */
export type NativeRunner = (name: string, mem: Uint8Array, param: number, expect: bigint) => number | undefined;

function loaded(engine: EngineName) {
  const obj = loadObject(join(process.cwd(), 'progs', 'net_xdp.bpf.o'), { engine });
  const lb = obj.map('lb_ports');
  for (const p of PORTS) {
    const key = new Uint8Array(2);
    new DataView(key.buffer).setUint16(0, p, true);
    lb.update(key, new Uint8Array(8));
  }
  return obj.program('xdp_lb');
}

function best(f: () => void): number {
  let ns = Infinity;
  for (let i = 0; i < RUNS; i++) {
    const t0 = process.hrtime.bigint();
    f();
    ns = Math.min(ns, Number(process.hrtime.bigint() - t0));
  }
  return ns;
}

const mpps = (packets: number, ns: number) => (packets / ns * 1e3).toFixed(3);

export function packetBench(native: NativeRunner): void {
  const frames = Array.from({ length: PACKETS }, (_, k) => frame(k));
  const hitsPerRound = frames.filter((_, k) => k % 2 === 0).length;
  const nativeNs = native('xdp_lb', nativeInput(frames), PER_PACKET_ROUNDS * 100, BigInt(hitsPerRound * PER_PACKET_ROUNDS * 100));
  console.log(`\npackets per second: xdp_lb (Ethernet, IPv4, UDP, one HASH lookup, an atomic add), ${PACKETS} frames of 47 bytes, best of ${RUNS}`);
  console.log('engine  mode                          M packets/s  ns/packet   x native');
  const nativeNsPerPacket = nativeNs === undefined ? undefined : nativeNs / (PACKETS * PER_PACKET_ROUNDS * 100);
  for (const engine of ENGINES) {
    const prog = loaded(engine);
    frames.forEach((f, k) => {
      const want = k % 2 === 0 ? XDP_PASS : XDP_DROP;
      const got = prog.testRun({ data: f }).retval;
      if (got !== want) throw new Error(`xdp_lb on ${engine}: frame ${k} gave ${got}, expected ${want}`);
    });
    const repeatNs = best(() => prog.testRun({ data: frames[0], repeat: REPEAT }));
    const perPacketNs = best(() => { for (let r = 0; r < PER_PACKET_ROUNDS; r++) for (const f of frames) prog.testRun({ data: f }); });
    for (const [mode, ns, n] of [['test run, repeat', repeatNs, REPEAT], ['one test run per packet', perPacketNs, PACKETS * PER_PACKET_ROUNDS]] as const) {
      const per = ns / n;
      console.log([engine.padEnd(7), mode.padEnd(29), mpps(n, ns).padStart(11), per.toFixed(0).padStart(10),
        (nativeNsPerPacket === undefined ? '-' : (per / nativeNsPerPacket).toFixed(0)).padStart(10)].join(' '));
    }
  }
  if (nativeNsPerPacket !== undefined) {
    console.log(`native  gcc -O2, the same parser       ${mpps(1, nativeNsPerPacket).padStart(11)} ${nativeNsPerPacket.toFixed(1).padStart(10)}`);
  }
}
