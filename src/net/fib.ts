/**
 * The simulated FIB that bpf_fib_lookup consults (spec program-types §4.7): network devices
 * {ifindex, name, MAC, MTU, forwarding per family}, routes {family, prefix, table, type,
 * gateway, device, metric, preferred source, MTU, lightweight tunnel} and neighbours {device,
 * address, MAC, valid}, parsed once from plain data (FibConfig) into an immutable Fib; and the
 * lookup of net/core/filter.c (bpf_ipv4_fib_lookup / bpf_ipv6_fib_lookup) over the 64 bytes of
 * a `struct bpf_fib_lookup`.
 *
 * What the model leaves out, and what it does instead:
 * - Policy routing: only the default rules (IPv4: tables local 255, main 254, default 253, in
 *   that order; IPv6: local, main). BPF_FIB_LOOKUP_MARK is accepted, but no rule selects on the
 *   mark, so it changes nothing. Other tables are reached with DIRECT | TBID.
 * - One next hop per route: no multipath (§4.7 step 4), no nexthop objects, no VRF (DIRECT
 *   without TBID uses main), no PMTU exceptions, no route TOS, lwt headroom 0.
 * - A route's `mtu` acts as `mtu lock N` does (the kernel's forwarding MTU ignores an unlocked
 *   route MTU); without one the egress device's MTU is used (IPv4 at most 65535, IPv6 at least
 *   1280 and at most 65575; mtu_result keeps the low 16 bits, as the u16 field does).
 * - Devices have no addresses: BPF_FIB_LOOKUP_SRC gives the route's `prefsrc`; without one IPv4
 *   gives 0.0.0.0 (a device without IPv4 addresses) and IPv6 NO_SRC_ADDR.
 * - IPv6 equal-metric routes of one prefix prefer the one on the lookup's device, then the first
 *   configured (the kernel scores them the same way but round-robins among equals).
 */
import { FibConfigError } from '../errors.js';
import { EAFNOSUPPORT, ENODEV } from '../uapi.js';
import { AF_INET, AF_INET6 } from './skb.js';


/** sizeof(struct bpf_fib_lookup). */
export const FIB_PARAMS_SIZE = 64;

/** BPF_FIB_LOOKUP_* flags; any other bit is EINVAL. spec §4.7 */
export const BPF_FIB_LOOKUP_DIRECT = 1;
export const BPF_FIB_LOOKUP_OUTPUT = 2;
export const BPF_FIB_LOOKUP_SKIP_NEIGH = 4;
export const BPF_FIB_LOOKUP_TBID = 8;
export const BPF_FIB_LOOKUP_SRC = 16;
export const BPF_FIB_LOOKUP_MARK = 32;
export const BPF_FIB_LOOKUP_MASK = 63;

/** BPF_FIB_LKUP_RET_* codes. spec §4.7 */
export const FIB_RET = {
  SUCCESS: 0, BLACKHOLE: 1, UNREACHABLE: 2, PROHIBIT: 3, NOT_FWDED: 4, FWD_DISABLED: 5,
  UNSUPP_LWT: 6, NO_NEIGH: 7, FRAG_NEEDED: 8, NO_SRC_ADDR: 9,
} as const;

export const RT_TABLE_DEFAULT = 253;
export const RT_TABLE_MAIN = 254;
export const RT_TABLE_LOCAL = 255;

const LOOPBACK_MTU = 65536;
const IP_MAX_MTU = 0xffff;
const IPV6_MIN_MTU = 1280;
const IP6_MAX_MTU = 0xffff + 40;
/** IP6_RT_PRIO_USER: the metric of an IPv6 route added without one. */
const IP6_RT_PRIO_USER = 1024;

// ---------------------------------------------------------------- configuration (plain data)

export interface FibDeviceConfig {
  readonly ifindex: number;
  readonly name?: string;
  /** "aa:bb:cc:dd:ee:ff"; default all zero (lo's). */
  readonly mac?: string;
  /** Default 1500 (lo: 65536). */
  readonly mtu?: number;
  /** net.ipv{4,6}.conf.DEV.forwarding; default off, as in a new network namespace. */
  readonly forwarding?: { readonly ipv4?: boolean; readonly ipv6?: boolean };
}

export type FibRouteType = 'unicast' | 'blackhole' | 'unreachable' | 'prohibit';

export interface FibRouteConfig {
  /** "10.0.0.0/8", "2001:db8::/32" (a bare address is a host route). */
  readonly dst: string;
  /** Default main (254). */
  readonly table?: number;
  readonly type?: FibRouteType;
  /** An IPv4 route may have an IPv6 gateway. */
  readonly gateway?: string;
  /** The egress device: ifindex or name. Required for unicast routes. */
  readonly dev?: number | string;
  /** Default 0 (IPv4) or 1024 (IPv6), as `ip route` adds them. */
  readonly metric?: number;
  readonly prefsrc?: string;
  readonly mtu?: number;
  /** The next hop has lightweight-tunnel encapsulation. */
  readonly lwt?: boolean;
}

export interface FibNeighbourConfig {
  readonly dev: number | string;
  readonly ip: string;
  readonly mac: string;
  /** In a NUD_VALID state; default true. */
  readonly valid?: boolean;
}

export interface FibConfig {
  readonly devices?: readonly FibDeviceConfig[];
  readonly routes?: readonly FibRouteConfig[];
  readonly neighbours?: readonly FibNeighbourConfig[];
}

// ---------------------------------------------------------------- the parsed model

/** An address: its family and its bytes as 32-bit words, most significant byte first. */
export interface FibAddress {
  readonly family: typeof AF_INET | typeof AF_INET6;
  readonly words: readonly number[];
}

export interface FibDevice {
  readonly ifindex: number;
  readonly name: string;
  readonly mac: Uint8Array;
  readonly mtu: number;
  readonly forwardIpv4: boolean;
  readonly forwardIpv6: boolean;
}

export interface FibRoute {
  readonly family: typeof AF_INET | typeof AF_INET6;
  readonly prefix: readonly number[];
  readonly prefixLen: number;
  readonly table: number;
  readonly type: FibRouteType;
  readonly gateway?: FibAddress;
  readonly dev?: number;
  readonly metric: number;
  readonly prefsrc?: FibAddress;
  readonly mtu?: number;
  readonly lwt: boolean;
  /** Position in the configuration (the tie-break of last resort). */
  readonly order: number;
}

export interface FibNeighbour {
  readonly dev: number;
  readonly address: FibAddress;
  readonly mac: Uint8Array;
  readonly valid: boolean;
}

// ---------------------------------------------------------------- address text

function parseIpv4(text: string): number[] | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) return undefined;
  const b = m.slice(1).map(Number);
  if (b.some((x) => x > 255)) return undefined;
  return [((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0];
}

function parseIpv6(text: string): number[] | undefined {
  let s = text;
  const groupsV4: number[] = [];
  const v4 = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4) {
    const w = parseIpv4(v4[2]);
    if (!w) return undefined;
    groupsV4.push(w[0] >>> 16, w[0] & 0xffff);
    s = v4[1].endsWith('::') ? v4[1] : v4[1].slice(0, -1);
  }
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const groups = (part: string) => (part === '' ? [] : part.split(':').map((h) => (/^[0-9a-fA-F]{1,4}$/.test(h) ? parseInt(h, 16) : NaN)));
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? [...groups(halves[1]), ...groupsV4] : [];
  if (halves.length === 1) head.push(...groupsV4);
  if ([...head, ...tail].some(Number.isNaN)) return undefined;
  const n = head.length + tail.length;
  if (halves.length === 1 ? n !== 8 : n > 7) return undefined;
  const all = [...head, ...new Array<number>(8 - n).fill(0), ...tail];
  return [0, 1, 2, 3].map((k) => ((all[2 * k] << 16) | all[2 * k + 1]) >>> 0);
}

/** An IPv4 or IPv6 address in text form, or undefined. */
export function parseAddress(text: string): FibAddress | undefined {
  if (text.includes(':')) {
    const words = parseIpv6(text);
    return words && { family: AF_INET6, words };
  }
  const words = parseIpv4(text);
  return words && { family: AF_INET, words };
}

/** The mask of word `k` of a `len`-bit prefix. */
function maskWord(len: number, k: number): number {
  const bits = len - 32 * k;
  if (bits >= 32) return 0xffffffff;
  if (bits <= 0) return 0;
  return (0xffffffff << (32 - bits)) >>> 0;
}

function prefixMatches(route: FibRoute, addr: readonly number[]): boolean {
  for (let k = 0; k < route.prefix.length; k++) {
    if (((addr[k] & maskWord(route.prefixLen, k)) >>> 0) !== route.prefix[k]) return false;
  }
  return true;
}

function parseMac(text: string): Uint8Array | undefined {
  if (!/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/.test(text)) return undefined;
  return Uint8Array.from(text.split(':').map((h) => parseInt(h, 16)));
}

// ---------------------------------------------------------------- validation

type Entry = Record<string, unknown>;

function entry(value: unknown, where: string, keys: readonly string[]): Entry {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new FibConfigError(where, 'must be an object');
  for (const key of Object.keys(value)) {
    if (!keys.includes(key)) throw new FibConfigError(`${where}.${key}`, `unknown field (expected ${keys.join(', ')})`);
  }
  return value as Entry;
}

function list(value: unknown, where: string): readonly unknown[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new FibConfigError(where, 'must be an array');
  return value;
}

function integer(value: unknown, where: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new FibConfigError(where, `must be an integer from ${min} to ${max} (got ${JSON.stringify(value)})`);
  }
  return value;
}

function bool(value: unknown, where: string): boolean {
  if (typeof value !== 'boolean') throw new FibConfigError(where, `must be true or false (got ${JSON.stringify(value)})`);
  return value;
}

function text(value: unknown, where: string): string {
  if (typeof value !== 'string') throw new FibConfigError(where, `must be a string (got ${JSON.stringify(value)})`);
  return value;
}

function mac(value: unknown, where: string): Uint8Array {
  const m = parseMac(text(value, where));
  if (!m) throw new FibConfigError(where, `bad MAC address ${JSON.stringify(value)} (six hex octets, aa:bb:cc:dd:ee:ff)`);
  return m;
}

function address(value: unknown, where: string): FibAddress {
  const a = parseAddress(text(value, where));
  if (!a) throw new FibConfigError(where, `bad address ${JSON.stringify(value)}`);
  return a;
}

const ROUTE_TYPES: readonly FibRouteType[] = ['unicast', 'blackhole', 'unreachable', 'prohibit'];

/** The simulated FIB: immutable once parsed. */
export class Fib {
  /** The default configuration: lo only, forwarding off (a test run's answer: FWD_DISABLED). */
  static readonly DEFAULT = Fib.parse({});

  private readonly devices: ReadonlyMap<number, FibDevice>;
  private readonly routes: ReadonlyMap<string, readonly FibRoute[]>;
  private readonly neighbours: ReadonlyMap<string, FibNeighbour>;

  private constructor(devices: Map<number, FibDevice>, routes: Map<string, FibRoute[]>, neighbours: Map<string, FibNeighbour>) {
    this.devices = devices;
    this.routes = routes;
    this.neighbours = neighbours;
    Object.freeze(this);
  }

  /**
   * Validates plain data (a FibConfig, as JSON gives it) and builds the FIB; anything wrong is a
   * FibConfigError naming the entry and field (`routes[2].dst: bad prefix "10.0.0/33"`).
   */
  static parse(config: unknown): Fib {
    const top = entry(config ?? {}, 'config', ['devices', 'routes', 'neighbours']);
    const devices = new Map<number, FibDevice>();
    const byName = new Map<string, number>();
    list(top.devices, 'devices').forEach((raw, i) => {
      const where = `devices[${i}]`;
      const d = entry(raw, where, ['ifindex', 'name', 'mac', 'mtu', 'forwarding']);
      const ifindex = integer(d.ifindex, `${where}.ifindex`, 1, 0x7fffffff);
      if (devices.has(ifindex)) throw new FibConfigError(`${where}.ifindex`, `ifindex ${ifindex} is already defined`);
      const name = d.name === undefined ? (ifindex === 1 ? 'lo' : `if${ifindex}`) : text(d.name, `${where}.name`);
      if (!/^[^\s/:]{1,15}$/.test(name)) throw new FibConfigError(`${where}.name`, `bad device name ${JSON.stringify(name)} (1 to 15 characters, no space, '/' or ':')`);
      if (byName.has(name)) throw new FibConfigError(`${where}.name`, `device name "${name}" is already used`);
      const fwd = d.forwarding === undefined ? {} : entry(d.forwarding, `${where}.forwarding`, ['ipv4', 'ipv6']);
      devices.set(ifindex, Object.freeze({
        ifindex, name,
        mac: d.mac === undefined ? new Uint8Array(6) : mac(d.mac, `${where}.mac`),
        mtu: d.mtu === undefined ? (ifindex === 1 ? LOOPBACK_MTU : 1500) : integer(d.mtu, `${where}.mtu`, 68, LOOPBACK_MTU),
        forwardIpv4: fwd.ipv4 === undefined ? false : bool(fwd.ipv4, `${where}.forwarding.ipv4`),
        forwardIpv6: fwd.ipv6 === undefined ? false : bool(fwd.ipv6, `${where}.forwarding.ipv6`),
      }));
      byName.set(name, ifindex);
    });
    if (!devices.has(1)) {
      if (byName.has('lo')) throw new FibConfigError('devices', 'the name "lo" is lo\'s (ifindex 1) unless ifindex 1 is defined');
      devices.set(1, Object.freeze({ ifindex: 1, name: 'lo', mac: new Uint8Array(6), mtu: LOOPBACK_MTU, forwardIpv4: false, forwardIpv6: false }));
      byName.set('lo', 1);
    }
    const device = (value: unknown, where: string): number => {
      if (typeof value === 'string') {
        const ifindex = byName.get(value);
        if (ifindex === undefined) throw new FibConfigError(where, `no device named "${value}"`);
        return ifindex;
      }
      const ifindex = integer(value, where, 1, 0x7fffffff);
      if (!devices.has(ifindex)) throw new FibConfigError(where, `no device with ifindex ${ifindex}`);
      return ifindex;
    };

    const routes = new Map<string, FibRoute[]>();
    list(top.routes, 'routes').forEach((raw, i) => {
      const where = `routes[${i}]`;
      const r = entry(raw, where, ['dst', 'table', 'type', 'gateway', 'dev', 'metric', 'prefsrc', 'mtu', 'lwt']);
      const dstText = text(r.dst, `${where}.dst`);
      const [addrText, lenText, extra] = dstText.split('/');
      const addr = extra === undefined ? parseAddress(addrText) : undefined;
      const max = addr?.family === AF_INET6 ? 128 : 32;
      const prefixLen = lenText === undefined ? max : /^\d{1,3}$/.test(lenText) ? Number(lenText) : NaN;
      if (!addr || !(prefixLen <= max)) throw new FibConfigError(`${where}.dst`, `bad prefix ${JSON.stringify(dstText)}`);
      const prefix = addr.words.map((w, k) => (w & maskWord(prefixLen, k)) >>> 0);
      // IPv4 refuses host bits past the prefix ("Invalid prefix for given prefix length"); IPv6 masks them.
      if (addr.family === AF_INET && prefix[0] !== addr.words[0]) {
        throw new FibConfigError(`${where}.dst`, `bad prefix ${JSON.stringify(dstText)} (host bits set past /${prefixLen})`);
      }
      const type = r.type === undefined ? 'unicast' : (text(r.type, `${where}.type`) as FibRouteType);
      if (!ROUTE_TYPES.includes(type)) throw new FibConfigError(`${where}.type`, `unknown route type ${JSON.stringify(r.type)} (${ROUTE_TYPES.join(', ')})`);
      const table = r.table === undefined ? RT_TABLE_MAIN : integer(r.table, `${where}.table`, 1, 0xffffffff);
      const metric = r.metric === undefined ? (addr.family === AF_INET6 ? IP6_RT_PRIO_USER : 0) : integer(r.metric, `${where}.metric`, 0, 0xffffffff);
      const dev = r.dev === undefined ? undefined : device(r.dev, `${where}.dev`);
      if (type === 'unicast' && dev === undefined) throw new FibConfigError(`${where}.dev`, 'a unicast route needs its egress device');
      let gateway: FibAddress | undefined;
      if (r.gateway !== undefined) {
        if (type !== 'unicast') throw new FibConfigError(`${where}.gateway`, `a ${type} route has no gateway`);
        gateway = address(r.gateway, `${where}.gateway`);
        if (addr.family === AF_INET6 && gateway.family === AF_INET) throw new FibConfigError(`${where}.gateway`, 'an IPv6 route cannot have an IPv4 gateway');
      }
      let prefsrc: FibAddress | undefined;
      if (r.prefsrc !== undefined) {
        prefsrc = address(r.prefsrc, `${where}.prefsrc`);
        if (prefsrc.family !== addr.family) throw new FibConfigError(`${where}.prefsrc`, 'must be of the route\'s family');
      }
      const route: FibRoute = Object.freeze({
        family: addr.family, prefix, prefixLen, table, type, gateway, dev, metric, prefsrc,
        mtu: r.mtu === undefined ? undefined : integer(r.mtu, `${where}.mtu`, 68, 0xffff),
        lwt: r.lwt === undefined ? false : bool(r.lwt, `${where}.lwt`),
        order: i,
      });
      const key = `${addr.family}/${table}`;
      const same = routes.get(key) ?? [];
      const dup = same.find((o) => o.prefixLen === prefixLen && o.metric === metric && o.prefix.every((w, k) => w === prefix[k]));
      if (dup) throw new FibConfigError(where, `the same prefix, table and metric as routes[${dup.order}]`);
      same.push(route);
      routes.set(key, same);
    });

    const neighbours = new Map<string, FibNeighbour>();
    list(top.neighbours, 'neighbours').forEach((raw, i) => {
      const where = `neighbours[${i}]`;
      const n = entry(raw, where, ['dev', 'ip', 'mac', 'valid']);
      const dev = device(n.dev, `${where}.dev`);
      const addr = address(n.ip, `${where}.ip`);
      const key = neighbourKey(dev, addr.family, addr.words);
      if (neighbours.has(key)) throw new FibConfigError(where, `a neighbour ${n.ip} on device ${dev} is already defined`);
      neighbours.set(key, Object.freeze({
        dev, address: addr, mac: mac(n.mac, `${where}.mac`), valid: n.valid === undefined ? true : bool(n.valid, `${where}.valid`),
      }));
    });
    return new Fib(devices, routes, neighbours);
  }

  device(ifindex: number): FibDevice | undefined {
    return this.devices.get(ifindex);
  }

  /** Whether table `id` exists for `family`: local and main always do, others once a route is in them. */
  hasTable(family: number, id: number): boolean {
    return id === RT_TABLE_MAIN || id === RT_TABLE_LOCAL || this.routes.has(`${family}/${id}`);
  }

  neighbour(dev: number, family: number, words: readonly number[]): FibNeighbour | undefined {
    return this.neighbours.get(neighbourKey(dev, family, words));
  }

  /**
   * The route of table `id` for `dst` (spec §4.7 step 3): the longest matching prefix, then the
   * lowest metric. `oifOnly` (IPv4 with OUTPUT) skips unicast routes on another device, as
   * fib_table_lookup skips such next hops and backtracks; `preferDev` (IPv6) picks, among the
   * equal-metric routes, one on that device.
   */
  lookupTable(family: number, id: number, dst: readonly number[], oifOnly = 0, preferDev = 0): FibRoute | undefined {
    let best: FibRoute | undefined;
    for (const r of this.routes.get(`${family}/${id}`) ?? []) {
      if (!prefixMatches(r, dst)) continue;
      if (oifOnly !== 0 && r.type === 'unicast' && r.dev !== oifOnly) continue;
      if (best === undefined || r.prefixLen > best.prefixLen
        || (r.prefixLen === best.prefixLen && (r.metric < best.metric
          || (r.metric === best.metric && preferDev !== 0 && r.dev === preferDev && best.dev !== preferDev)))) best = r;
    }
    return best;
  }
}

function neighbourKey(dev: number, family: number, words: readonly number[]): string {
  return `${dev}/${family}/${words.join('.')}`;
}

// ---------------------------------------------------------------- struct bpf_fib_lookup

/** Field offsets of struct bpf_fib_lookup (spec §4.7's table). */
const F = {
  family: 0, l4Protocol: 1, sport: 2, dport: 4, totLen: 6, ifindex: 8, tos: 12, rtMetric: 12,
  src: 16, dst: 32, tbid: 48, vlanProto: 48, vlanTci: 50, mark: 52, smac: 52, dmac: 58,
} as const;

function readWords(p: Uint8Array, off: number, n: number): number[] {
  const v = new DataView(p.buffer, p.byteOffset, p.byteLength);
  const out: number[] = [];
  for (let k = 0; k < n; k++) out.push(v.getUint32(off + 4 * k, false));
  return out;
}

function writeWords(p: Uint8Array, off: number, words: readonly number[]): void {
  const v = new DataView(p.buffer, p.byteOffset, p.byteLength);
  words.forEach((w, k) => v.setUint32(off + 4 * k, w, false));
}

/** ipv6_addr_type & (MULTICAST | LINKLOCAL | LOOPBACK): rt6_need_strict. */
function ipv6NeedStrict(w: readonly number[]): boolean {
  if (w[0] >>> 24 === 0xff) return true;
  if ((w[0] & 0xffc00000) >>> 0 === 0xfe800000) return true;
  return w[0] === 0 && w[1] === 0 && w[2] === 0 && w[3] === 1;
}

/** bpf_fib_set_fwd_params: VLAN fields zero, mtu_result when an MTU was computed. spec §4.7 step 9 */
function setFwdParams(v: DataView, mtu: number): number {
  v.setUint16(F.vlanProto, 0, true);
  v.setUint16(F.vlanTci, 0, true);
  if (mtu !== 0) v.setUint16(F.totLen, mtu & 0xffff, true);
  return FIB_RET.SUCCESS;
}

/** Neighbour resolution (§4.7 step 8): NO_NEIGH, or the MACs written and the forward params set. */
function resolve(fib: Fib, v: DataView, p: Uint8Array, dev: FibDevice, family: number, next: readonly number[], flags: number, mtu: number): number {
  if ((flags & BPF_FIB_LOOKUP_SKIP_NEIGH) === 0) {
    const neigh = fib.neighbour(dev.ifindex, family, next);
    if (neigh === undefined || !neigh.valid) return FIB_RET.NO_NEIGH;
    p.set(neigh.mac, F.dmac);
    p.set(dev.mac, F.smac);
  }
  return setFwdParams(v, mtu);
}

/** The table of a DIRECT lookup (its id, the TBID field zeroed), or undefined when it does not exist. spec §4.7 step 3 */
function directTable(fib: Fib, v: DataView, family: number, flags: number): number | undefined {
  let tbid = RT_TABLE_MAIN;
  if ((flags & BPF_FIB_LOOKUP_TBID) !== 0) {
    tbid = v.getUint32(F.tbid, true);
    v.setUint32(F.tbid, 0, true);
  }
  if (tbid === 0) tbid = RT_TABLE_MAIN; // fib_get_table / fib6_get_table: id 0 is main
  return fib.hasTable(family, tbid) ? tbid : undefined;
}

/** The default policy rules' tables, in order (MARK selects nothing: no other rules). */
function ruleTables(family: number): readonly number[] {
  return family === AF_INET ? [RT_TABLE_LOCAL, RT_TABLE_MAIN, RT_TABLE_DEFAULT] : [RT_TABLE_LOCAL, RT_TABLE_MAIN];
}

function lookupRoute(fib: Fib, v: DataView, family: number, flags: number, dst: readonly number[], oifOnly: number, preferDev: number): FibRoute | undefined | 'no-table' {
  if ((flags & BPF_FIB_LOOKUP_DIRECT) !== 0) {
    const table = directTable(fib, v, family, flags);
    return table === undefined ? 'no-table' : fib.lookupTable(family, table, dst, oifOnly, preferDev);
  }
  for (const table of ruleTables(family)) {
    const r = fib.lookupTable(family, table, dst, oifOnly, preferDev);
    if (r !== undefined) return r;
  }
  return undefined;
}

/** Step 3's answer for no route, a missing table, or a route that does not forward. */
function refusal(route: FibRoute | 'no-table' | undefined): number {
  if (route === undefined || route === 'no-table') return FIB_RET.NOT_FWDED;
  if (route.type === 'blackhole') return FIB_RET.BLACKHOLE;
  if (route.type === 'unreachable') return FIB_RET.UNREACHABLE;
  return route.type === 'prohibit' ? FIB_RET.PROHIBIT : FIB_RET.NOT_FWDED;
}

/** bpf_ipv4_fib_lookup. spec §4.7 steps 2-9 */
function ipv4Lookup(fib: Fib, p: Uint8Array, v: DataView, flags: number, checkMtu: boolean): number {
  const dev = fib.device(v.getUint32(F.ifindex, true));
  if (dev === undefined) return -ENODEV; // step 2
  if (!dev.forwardIpv4) return FIB_RET.FWD_DISABLED;
  const oif = (flags & BPF_FIB_LOOKUP_OUTPUT) !== 0 ? dev.ifindex : 0;
  const route = lookupRoute(fib, v, AF_INET, flags, readWords(p, F.dst, 1), oif, 0); // step 3
  if (route === undefined || route === 'no-table' || route.type !== 'unicast') return refusal(route);
  const out = fib.device(route.dev!)!;
  let mtu = 0;
  if (checkMtu) { // step 5: ip_mtu_from_fib_result
    mtu = route.mtu ?? Math.min(out.mtu, IP_MAX_MTU);
    if (v.getUint16(F.totLen, true) > mtu) {
      v.setUint16(F.totLen, mtu & 0xffff, true);
      return FIB_RET.FRAG_NEEDED;
    }
  }
  if (route.lwt) return FIB_RET.UNSUPP_LWT; // step 6
  v.setUint32(F.rtMetric, route.metric, true); // step 7
  v.setUint32(F.ifindex, out.ifindex, true);
  if ((flags & BPF_FIB_LOOKUP_SRC) !== 0) writeWords(p, F.src, route.prefsrc?.words ?? [0]);
  const gw = route.gateway;
  if (gw?.family === AF_INET6) {
    p[F.family] = AF_INET6;
    writeWords(p, F.dst, gw.words);
  } else if (gw !== undefined) {
    writeWords(p, F.dst, gw.words);
  }
  const nextFamily = gw?.family ?? AF_INET;
  return resolve(fib, v, p, out, nextFamily, readWords(p, F.dst, nextFamily === AF_INET ? 1 : 4), flags, mtu); // steps 8-9
}

/** bpf_ipv6_fib_lookup. spec §4.7 steps 1-9 */
function ipv6Lookup(fib: Fib, p: Uint8Array, v: DataView, flags: number, checkMtu: boolean): number {
  const dst = readWords(p, F.dst, 4);
  if (ipv6NeedStrict(dst) || ipv6NeedStrict(readWords(p, F.src, 4))) return FIB_RET.NOT_FWDED; // step 1
  const dev = fib.device(v.getUint32(F.ifindex, true));
  if (dev === undefined) return -ENODEV; // step 2
  if (!dev.forwardIpv6 || dev.mtu < IPV6_MIN_MTU) return FIB_RET.FWD_DISABLED; // no inet6_dev below 1280
  const route = lookupRoute(fib, v, AF_INET6, flags, dst, 0, dev.ifindex); // step 3
  if (route === undefined || route === 'no-table' || route.type !== 'unicast') return refusal(route);
  const out = fib.device(route.dev!)!;
  let mtu = 0;
  if (checkMtu) { // step 5: ip6_mtu_from_fib6
    mtu = route.mtu ?? Math.min(Math.max(IPV6_MIN_MTU, out.mtu), IP6_MAX_MTU);
    if (v.getUint16(F.totLen, true) > mtu) {
      v.setUint16(F.totLen, mtu & 0xffff, true);
      return FIB_RET.FRAG_NEEDED;
    }
  }
  if (route.lwt) return FIB_RET.UNSUPP_LWT; // step 6
  if (route.gateway !== undefined) writeWords(p, F.dst, route.gateway.words); // step 7
  v.setUint32(F.rtMetric, route.metric, true);
  v.setUint32(F.ifindex, out.ifindex, true);
  if ((flags & BPF_FIB_LOOKUP_SRC) !== 0) {
    if (route.prefsrc === undefined) return FIB_RET.NO_SRC_ADDR; // no device addresses to choose from
    writeWords(p, F.src, route.prefsrc.words);
  }
  return resolve(fib, v, p, out, AF_INET6, readWords(p, F.dst, 4), flags, mtu); // steps 8-9
}

/**
 * The lookup of `params` (the 64 bytes of struct bpf_fib_lookup, updated in place as the kernel
 * writes them, on failures too) by its family: a BPF_FIB_LKUP_RET_* code, -ENODEV, or
 * -EAFNOSUPPORT. `checkMtu`: XDP always, tc when tot_len is not 0 (spec §4.7 step 5). The
 * caller checks plen and flags, and does tc's step 10.
 */
export function fibLookup(fib: Fib, params: Uint8Array, flags: number, checkMtu: boolean): number {
  const v = new DataView(params.buffer, params.byteOffset, FIB_PARAMS_SIZE);
  switch (params[F.family]) {
    case AF_INET: return ipv4Lookup(fib, params, v, flags, checkMtu);
    case AF_INET6: return ipv6Lookup(fib, params, v, flags, checkMtu);
    default: return -EAFNOSUPPORT;
  }
}

/** Offsets the helper needs: tot_len / mtu_result and ifindex. */
export const FIB_TOT_LEN_OFFSET = F.totLen;
export const FIB_IFINDEX_OFFSET = F.ifindex;
