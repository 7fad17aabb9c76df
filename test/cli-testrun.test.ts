// `bpfrun test-run` and `bpfrun run` on packet programs: the context by field name, the
// kernel's errnos, captures in and out, and what `run` says when it has nothing to run.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCapture, writePcap } from '../src/pcap.js';
import { bpfrun } from './helpers.js';

/** An Ethernet + IPv4 + UDP frame (10.0.0.1:1234 -> 10.0.0.2:7, payload "hello!"). */
const UDP = Uint8Array.from(Buffer.from('00000000000002000000000108004500002200010000401100000a0000010a00000204d20007000e000068656c6c6f21', 'hex'));
/** The same with TCP as the IPv4 protocol, and an ARP frame. */
const TCP = Uint8Array.from(UDP, (b, i) => (i === 23 ? 6 : b));
const ARP = Uint8Array.from(Buffer.from('ffffffffffff020000000001080600010800060400010200000000010a0000010000000000000a000002', 'hex'));

describe('bpfrun test-run', () => {
  let dir = '';
  before(() => { dir = mkdtempSync(join(tmpdir(), 'bpfrun-testrun-')); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('runs a cgroup_skb program on a packet: the verdict by name, data_out with 14 zero bytes before L3', () => {
    const r = bpfrun(['test-run', 'progs/net_cgroup.bpf.o', '--prog', 'cg_egress', '--data-hex', Buffer.from(UDP).toString('hex')]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^cg_egress \(cgroup_skb\): retval 3 \(allow, congestion notification\)/);
    assert.match(r.stdout, /data_out \(48 bytes\):\n {2}0000 {2}00 00 00 00 00 00 00 00 00 00 00 00 00 00 45 00/);
  });

  it('takes the context as JSON fields and prints ctx_out by field (--json)', () => {
    const r = bpfrun(['test-run', 'progs/net_cgroup.bpf.o', '--prog', 'cg_egress', '--data-hex', Buffer.from(TCP).toString('hex'),
      '--ctx-in', '{"mark": 7, "cb": [1, 2, 3, 4, 5], "priority": 9}', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.retval, 1);
    assert.equal(out.verdict, 'allow');
    assert.equal(out.ctx_fields.mark, 7);
    assert.deepEqual(out.ctx_fields.cb, [1, 2, 3, 4, 5]);
    assert.equal(out.ctx_fields.priority, 9);
    assert.equal(out.ctx_fields.ifindex, 1); // lo, written back by convert_skb_to___skb
  });

  it('an input the kernel refuses is its errno: a short packet, a field ctx_in may not set, an unknown field', () => {
    const short = bpfrun(['test-run', 'progs/net_cgroup.bpf.o', '--prog', 'cg_egress', '--data-hex', '0000']);
    assert.equal(short.status, 1);
    assert.match(short.stderr, /BPF_PROG_TEST_RUN of cg_egress: data_in is 2 bytes, shorter than an Ethernet header \(14\) \(EINVAL\)/);
    const hash = bpfrun(['test-run', 'progs/net_cgroup.bpf.o', '--prog', 'cg_egress', '--data-hex', Buffer.from(UDP).toString('hex'),
      '--ctx-in', '{"hash": 1}']);
    assert.equal(hash.status, 1);
    assert.match(hash.stderr, /ctx hash, tc_classid, data \(bytes 68\.\.79\) must be 0 \(EINVAL\)/);
    const unknown = bpfrun(['test-run', 'progs/net_cgroup.bpf.o', '--prog', 'cg_egress', '--data-hex', '00'.repeat(14), '--ctx-in', '{"nope": 1}']);
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /__sk_buff has no field nope/);
    const prog = bpfrun(['test-run', 'progs/net_cgroup.bpf.o', '--prog', 'nope', '--data-hex', '00'.repeat(14)]);
    assert.equal(prog.status, 1);
    assert.match(prog.stderr, /program nope: no such program \(have: cg_fields, cg_egress\)/);
  });

  it('a too-small --data-size-out is ENOSPC with what fit copied and the full size reported', () => {
    const r = bpfrun(['test-run', 'progs/net_cgroup.bpf.o', '--prog', 'cg_egress', '--data-hex', Buffer.from(UDP).toString('hex'),
      '--data-size-out', '20', '--json']);
    assert.equal(r.status, 1);
    const out = JSON.parse(r.stdout);
    assert.equal(out.errno, 'ENOSPC');
    assert.equal(out.data_size_out, 48);
    assert.equal(out.data_out.length, 40);
  });

  it('--pcap runs every packet of a capture: a verdict table, per packet with --verbose, outputs with --pcap-out', () => {
    const input = join(dir, 'in.pcap'), output = join(dir, 'out.pcap');
    writeFileSync(input, writePcap([{ data: UDP }, { data: TCP }, { data: ARP }, { data: UDP }, { data: new Uint8Array(4) }]));
    const r = bpfrun(['test-run', 'progs/net_cgroup.bpf.o', '--prog', 'cg_egress', '--pcap', input, '--pcap-out', output, '--verbose']);
    assert.equal(r.status, 1, r.stderr); // one packet was refused
    assert.match(r.stdout, /#0 48 bytes: allow, congestion notification\n#1 48 bytes: allow\n#2 42 bytes: drop\n/);
    assert.match(r.stdout, /cg_egress \(cgroup_skb\): 5 packets\n +2 {2}allow, congestion notification\n/);
    assert.match(r.stdout, /\n +1 {2}refused \(EINVAL\)/);
    assert.match(r.stdout, /first refused \(EINVAL\): packet 4: .*data_in is 4 bytes/);
    const written = readCapture(readFileSync(output));
    assert.equal(written.packets.length, 4);
    assert.deepEqual([...written.packets[0].data.subarray(0, 14)], new Array(14).fill(0));
  });

  it('--pcap reads the perf rings after each packet, so a long capture never fills them', () => {
    const input = join(dir, 'many.pcap');
    // 2000 records of 24 bytes are more than the 8-page ring holds (1365) if nobody reads it.
    writeFileSync(input, writePcap(Array.from({ length: 2000 }, () => ({ data: UDP }))));
    const r = bpfrun(['test-run', 'progs/net_perf.bpf.o', '--prog', 'xdp_perf', '--pcap', input, '--json']);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.perf_records, 2000);
    const verbose = bpfrun(['test-run', 'progs/net_perf.bpf.o', '--prog', 'xdp_perf', '--pcap', join(dir, 'in.pcap'), '--verbose']);
    assert.match(verbose.stdout, /#0 48 bytes: XDP_PASS, 1 perf records\n/);
    assert.match(verbose.stdout, /xdp_perf \(xdp\): 5 packets, 4 perf records\n/);
  });

  it('a damaged capture is one line naming the record', () => {
    const input = join(dir, 'bad.pcap');
    const good = writePcap([{ data: UDP }, { data: UDP }]);
    writeFileSync(input, good.subarray(0, good.length - 10));
    const r = bpfrun(['test-run', 'progs/net_cgroup.bpf.o', '--prog', 'cg_egress', '--pcap', input]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^bpfrun: .*bad\.pcap: capture record 1 at byte \d+: /);
  });
});

describe('bpfrun run on an object without syscall programs', () => {
  it('lists the programs and how to run each, exit status 2', () => {
    const r = bpfrun(['run', 'progs/net_xdp.bpf.o']);
    assert.equal(r.status, 2);
    assert.match(r.stdout, /has no SEC\("syscall"\) programs/);
    assert.match(r.stdout, /xdp_fields \(xdp, xdp\): bpfrun test-run progs\/net_xdp\.bpf\.o --prog xdp_fields --data-hex <Ethernet frame>/);
  });
});
