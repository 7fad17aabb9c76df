/**
 * Test-run input and output as users read and write them: the UAPI layouts of the contexts they
 * give by name (`--ctx-in '{"mark": 7}'`) and read back — `__sk_buff`, `xdp_md`,
 * `bpf_flow_keys`, each field's offset and size (include/uapi/linux/bpf.h; spec program-types
 * §2.2–2.4) — and the names of the verdicts each type returns (§5.1).
 */

export interface CtxField {
  readonly off: number;
  /** Bytes of one element. */
  readonly size: 1 | 2 | 4 | 8;
  /** Elements (cb[5], the ip6 arrays). */
  readonly count?: number;
}

export interface CtxLayout {
  readonly struct: string;
  readonly size: number;
  readonly fields: Readonly<Record<string, CtxField>>;
}

const SK_BUFF: CtxLayout = {
  struct: '__sk_buff', size: 192, fields: {
    len: { off: 0, size: 4 }, pkt_type: { off: 4, size: 4 }, mark: { off: 8, size: 4 }, queue_mapping: { off: 12, size: 4 },
    protocol: { off: 16, size: 4 }, vlan_present: { off: 20, size: 4 }, vlan_tci: { off: 24, size: 4 },
    vlan_proto: { off: 28, size: 4 }, priority: { off: 32, size: 4 }, ingress_ifindex: { off: 36, size: 4 },
    ifindex: { off: 40, size: 4 }, tc_index: { off: 44, size: 4 }, cb: { off: 48, size: 4, count: 5 }, hash: { off: 68, size: 4 },
    tc_classid: { off: 72, size: 4 }, data: { off: 76, size: 4 }, data_end: { off: 80, size: 4 }, napi_id: { off: 84, size: 4 },
    family: { off: 88, size: 4 }, remote_ip4: { off: 92, size: 4 }, local_ip4: { off: 96, size: 4 },
    remote_ip6: { off: 100, size: 4, count: 4 }, local_ip6: { off: 116, size: 4, count: 4 }, remote_port: { off: 132, size: 4 },
    local_port: { off: 136, size: 4 }, data_meta: { off: 140, size: 4 }, flow_keys: { off: 144, size: 8 },
    tstamp: { off: 152, size: 8 }, wire_len: { off: 160, size: 4 }, gso_segs: { off: 164, size: 4 }, sk: { off: 168, size: 8 },
    gso_size: { off: 176, size: 4 }, tstamp_type: { off: 180, size: 1 }, hwtstamp: { off: 184, size: 8 },
  },
};

const XDP_MD: CtxLayout = {
  struct: 'xdp_md', size: 24, fields: {
    data: { off: 0, size: 4 }, data_end: { off: 4, size: 4 }, data_meta: { off: 8, size: 4 },
    ingress_ifindex: { off: 12, size: 4 }, rx_queue_index: { off: 16, size: 4 }, egress_ifindex: { off: 20, size: 4 },
  },
};

const FLOW_KEYS: CtxLayout = {
  struct: 'bpf_flow_keys', size: 56, fields: {
    nhoff: { off: 0, size: 2 }, thoff: { off: 2, size: 2 }, addr_proto: { off: 4, size: 2 }, is_frag: { off: 6, size: 1 },
    is_first_frag: { off: 7, size: 1 }, is_encap: { off: 8, size: 1 }, ip_proto: { off: 9, size: 1 }, n_proto: { off: 10, size: 2 },
    sport: { off: 12, size: 2 }, dport: { off: 14, size: 2 }, ipv4_src: { off: 16, size: 4 }, ipv4_dst: { off: 20, size: 4 },
    flags: { off: 48, size: 4 }, flow_label: { off: 52, size: 4 },
  },
};

const BY_TYPE: ReadonlyMap<string, CtxLayout> = new Map([
  ['sched_cls', SK_BUFF], ['sched_act', SK_BUFF], ['socket_filter', SK_BUFF], ['cgroup_skb', SK_BUFF],
  ['lwt_in', SK_BUFF], ['lwt_out', SK_BUFF], ['lwt_xmit', SK_BUFF], ['xdp', XDP_MD], ['flow_dissector', FLOW_KEYS],
]);

/** The context layout of a program type, if it has a named one. */
export function ctxLayout(type: string): CtxLayout | undefined {
  return BY_TYPE.get(type);
}

/** A context from `{ field: number | number[] }` (cb and the ip6 arrays take arrays). */
export function ctxFromFields(layout: CtxLayout, values: Record<string, unknown>): Uint8Array {
  const bytes = new Uint8Array(layout.size);
  const view = new DataView(bytes.buffer);
  for (const [name, value] of Object.entries(values)) {
    const f = layout.fields[name];
    if (f === undefined) throw new Error(`${layout.struct} has no field ${name} (fields: ${Object.keys(layout.fields).join(', ')})`);
    const list = Array.isArray(value) ? value : [value];
    if (list.length > (f.count ?? 1)) throw new Error(`${layout.struct}.${name} takes ${f.count ?? 1} value(s), got ${list.length}`);
    list.forEach((v, i) => {
      if (typeof v !== 'number' && typeof v !== 'string') throw new Error(`${layout.struct}.${name}: ${JSON.stringify(v)} is not a number`);
      let n: bigint;
      try { n = BigInt(v); } catch { throw new Error(`${layout.struct}.${name}: ${JSON.stringify(v)} is not an integer`); }
      if (n < 0n || n >= 1n << BigInt(8 * f.size)) throw new Error(`${layout.struct}.${name}: ${v} does not fit in ${f.size} bytes`);
      const at = f.off + i * f.size;
      if (f.size === 8) view.setBigUint64(at, n, true);
      else if (f.size === 4) view.setUint32(at, Number(n), true);
      else if (f.size === 2) view.setUint16(at, Number(n), true);
      else view.setUint8(at, Number(n));
    });
  }
  return bytes;
}

/** The fields of a context as numbers (arrays for cb and the ip6 arrays; 64-bit ones as strings). */
export function ctxToFields(layout: CtxLayout, bytes: Uint8Array): Record<string, number | string | number[]> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Record<string, number | string | number[]> = {};
  for (const [name, f] of Object.entries(layout.fields)) {
    const read = (at: number): number | string => {
      if (at + f.size > bytes.length) return 0;
      return f.size === 8 ? view.getBigUint64(at, true).toString() : f.size === 4 ? view.getUint32(at, true)
        : f.size === 2 ? view.getUint16(at, true) : view.getUint8(at);
    };
    out[name] = f.count ? Array.from({ length: f.count }, (_, i) => read(f.off + i * f.size) as number) : read(f.off);
  }
  return out;
}

const VERDICTS: ReadonlyMap<string, readonly string[]> = new Map([
  ['xdp', ['XDP_ABORTED', 'XDP_DROP', 'XDP_PASS', 'XDP_TX', 'XDP_REDIRECT']],
  ['sched_cls', ['TC_ACT_OK', 'TC_ACT_RECLASSIFY', 'TC_ACT_SHOT', 'TC_ACT_PIPE', 'TC_ACT_STOLEN', 'TC_ACT_QUEUED', 'TC_ACT_REPEAT',
    'TC_ACT_REDIRECT', 'TC_ACT_TRAP']],
  ['cgroup_skb', ['drop', 'allow', 'drop, congestion notification', 'allow, congestion notification']],
]);

/** The name of a program type's return value (XDP_PASS, TC_ACT_SHOT, ...), or the number. */
export function verdictName(type: string, retval: number): string {
  const t = type === 'sched_act' ? 'sched_cls' : type;
  if (t === 'sched_cls' && retval === 0xffffffff) return 'TC_ACT_UNSPEC';
  if (t === 'flow_dissector') return retval === 0 ? 'BPF_OK' : retval === 2 ? 'BPF_DROP' : retval === 129 ? 'BPF_FLOW_DISSECTOR_CONTINUE' : String(retval);
  if (t === 'socket_filter') return retval === 0 ? 'drop' : `keep ${retval} bytes`;
  return VERDICTS.get(t)?.[retval] ?? String(retval);
}
