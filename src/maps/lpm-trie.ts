/**
 * LPM_TRIE (kernel/bpf/lpm_trie.c; spec maps-and-kernel-objects §2.1). The kernel's node model,
 * kept as is so that lookups, updates, deletes and get_next_key's post-order walk come out the
 * same: every entry is a node {prefixlen, data (all data_size bytes as the user gave them),
 * value, child[0], child[1]}; intermediate (IM) nodes have no value and two children.
 *
 * Keys are `struct bpf_lpm_trie_key_u8`: a native-endian (little-endian) u32 prefix length,
 * then data compared bit by bit from the most significant bit of data[0].
 *
 * Values live in mapped slots (the hash map's slot pool), so a program's lookup returns an
 * address it can read and write. An update of an existing prefix links a fresh node (a new
 * slot) and frees the old one, as trie_update_elem does.
 */
import { AddressSpace } from '../memory.js';
import { hexBytes } from '../text.js';
import { BPF_EXIST, BPF_NOEXIST, EEXIST, EINVAL, ENOENT, ENOSPC, EPERM } from '../uapi.js';
import { BpfMap } from './base.js';
import { SlotPool, type Slot } from './hash.js';
import { flagsValue, roundUp8, type MapSpec } from './types.js';

interface TrieNode {
  prefixlen: number;
  data: Uint8Array;
  /** undefined for an intermediate node. */
  slot: Slot | undefined;
  child: [TrieNode | null, TrieNode | null];
}

/** extract_bit: bit `index` of data, from the MSB of data[0]. */
function bit(data: Uint8Array, index: number): 0 | 1 {
  return (data[index >> 3] >> (7 - (index & 7))) & 1 ? 1 : 0;
}

export class LpmTrieMap extends BpfMap {
  readonly dataSize: number;
  readonly maxPrefixlen: number;
  private root: TrieNode | null = null;
  private nEntries = 0;
  private readonly pool: SlotPool;

  constructor(spec: MapSpec, memory: AddressSpace, nrCpus: number) {
    super(spec, memory, nrCpus);
    this.dataSize = spec.keySize - 4;
    this.maxPrefixlen = this.dataSize * 8;
    // One more slot than entries: a replacement takes its new node before freeing the old one.
    this.pool = new SlotPool((label, bytes) => this.mapRegion(label, bytes), `map value of ${spec.name}`, spec.maxEntries + 1, roundUp8(spec.valueSize), 1);
  }

  /** Number of entries (intermediate nodes not counted). */
  get size(): number { return this.nEntries; }

  private prefixlenOf(key: Uint8Array): number {
    return (key[0] | (key[1] << 8) | (key[2] << 16) | (key[3] << 24)) >>> 0;
  }

  /** longest_prefix_match: equal leading bits, capped at min(node.prefixlen, prefixlen). */
  private match(node: TrieNode, prefixlen: number, data: Uint8Array): number {
    const limit = Math.min(node.prefixlen, prefixlen);
    let n = 0;
    for (let i = 0; n < limit; i++) {
      const diff = node.data[i] ^ data[i];
      if (diff === 0) { n += 8; continue; }
      n += Math.clz32(diff) - 24;
      break;
    }
    return Math.min(n, limit);
  }

  private find(key: Uint8Array): TrieNode | null {
    const prefixlen = this.prefixlenOf(key);
    if (prefixlen > this.maxPrefixlen) return null;
    const data = key.subarray(4);
    let found: TrieNode | null = null;
    for (let node = this.root; node;) {
      const m = this.match(node, prefixlen, data);
      if (m === this.maxPrefixlen) return node;
      if (m < node.prefixlen) break;
      if (node.slot) found = node;
      node = node.child[bit(data, node.prefixlen)];
    }
    return found;
  }

  // ---- Program side ----

  // trie_lookup_elem: the longest stored prefix <= key.prefixlen matching the key's bits.
  lookupElem(key: Uint8Array): bigint {
    const node = this.find(key);
    return node?.slot ? node.slot.addrs[0] : 0n;
  }

  updateElem(key: Uint8Array, value: Uint8Array, flags: number): number {
    if (this.readonlyForProgram) return -EPERM;
    return this.update1(key, value, flags);
  }

  deleteElem(key: Uint8Array): number {
    if (this.readonlyForProgram) return -EPERM;
    return this.delete1(key);
  }

  /** trie_check_add_elem */
  private checkAdd(flags: number): number {
    if (flags === BPF_EXIST) return -ENOENT;
    if (this.nEntries === this.spec.maxEntries) return -ENOSPC;
    this.nEntries++;
    return 0;
  }

  /** trie_update_elem, step by step (spec §2.1). */
  private update1(key: Uint8Array, value: Uint8Array, flags: number): number {
    const f = flagsValue(flags);
    if (f > BPF_EXIST) return -EINVAL;
    const prefixlen = this.prefixlenOf(key);
    if (prefixlen > this.maxPrefixlen) return -EINVAL;
    const data = key.slice(4);
    const newNode = (): TrieNode => {
      const slot = this.pool.take()!;
      slot.bytes[0].set(value.subarray(0, this.spec.valueSize), slot.offset);
      slot.bytes[0].fill(0, slot.offset + this.spec.valueSize, slot.offset + roundUp8(this.spec.valueSize));
      return { prefixlen, data, slot, child: [null, null] };
    };
    // The slot to attach to: a parent's child index, or the root.
    let parent: TrieNode | null = null;
    let side: 0 | 1 = 0;
    let node = this.root;
    let m = 0;
    while (node) {
      m = this.match(node, prefixlen, data);
      if (node.prefixlen !== m || node.prefixlen === prefixlen) break;
      parent = node;
      side = bit(data, node.prefixlen);
      node = node.child[side];
    }
    const attach = (n: TrieNode) => { if (parent) parent.child[side] = n; else this.root = n; };
    if (!node) {
      const err = this.checkAdd(f);
      if (err) return err;
      attach(newNode());
      return 0;
    }
    if (node.prefixlen === m) {
      // The same prefix: replace a real node (BPF_NOEXIST: EEXIST) or fill an IM one (a new entry).
      if (node.slot) {
        if (f === BPF_NOEXIST) return -EEXIST;
      } else {
        const err = this.checkAdd(f);
        if (err) return err;
      }
      const n = newNode();
      n.child = node.child;
      attach(n);
      if (node.slot) this.pool.release(node.slot);
      return 0;
    }
    const err = this.checkAdd(f);
    if (err) return err;
    const n = newNode();
    if (m === prefixlen) {
      // The new key is a strict prefix of the node: it goes above it.
      n.child[bit(node.data, m)] = node;
      attach(n);
      return 0;
    }
    // Otherwise an intermediate node at the common prefix, holding the existing node's data.
    const im: TrieNode = { prefixlen: m, data: node.data, slot: undefined, child: [null, null] };
    if (bit(data, m)) im.child = [node, n];
    else im.child = [n, node];
    attach(im);
    return 0;
  }

  /** trie_delete_elem: an exact prefix (trailing bits ignored); spec §2.1. */
  private delete1(key: Uint8Array): number {
    const prefixlen = this.prefixlenOf(key);
    if (prefixlen > this.maxPrefixlen) return -EINVAL;
    const data = key.subarray(4);
    let grand: TrieNode | null = null, grandSide: 0 | 1 = 0; // the parent's own slot (trim2)
    let parent: TrieNode | null = null, side: 0 | 1 = 0; // the node's slot (trim)
    let node = this.root;
    let m = 0;
    while (node) {
      m = this.match(node, prefixlen, data);
      if (node.prefixlen !== m || node.prefixlen === prefixlen) break;
      grand = parent; grandSide = side;
      parent = node;
      side = bit(data, node.prefixlen);
      node = node.child[side];
    }
    if (!node || node.prefixlen !== prefixlen || node.prefixlen !== m || !node.slot) return -ENOENT;
    this.nEntries--;
    const slot = node.slot;
    const setSlot = (at: TrieNode | null, s: 0 | 1, n: TrieNode | null) => { if (at) at.child[s] = n; else this.root = n; };
    if (node.child[0] && node.child[1]) {
      node.slot = undefined; // becomes intermediate
    } else if (parent && !parent.slot && !node.child[0] && !node.child[1]) {
      // A leaf under an IM node: the sibling takes the IM node's place.
      setSlot(grand, grandSide, parent.child[side === 0 ? 1 : 0]);
    } else {
      setSlot(parent, side, node.child[0] ?? node.child[1]);
    }
    this.pool.release(slot);
    return 0;
  }

  // ---- Host side ----

  protected hostLookup(key: Uint8Array): Uint8Array | undefined {
    const node = this.find(key);
    if (!node?.slot) return undefined;
    return node.slot.bytes[0].slice(node.slot.offset, node.slot.offset + this.spec.valueSize);
  }

  protected hostUpdate(key: Uint8Array, value: Uint8Array, flags: number): number {
    return this.update1(key, value, flags);
  }

  protected hostDelete(key: Uint8Array): number {
    return this.delete1(key);
  }

  /** trie_get_next_key: post-order (more specific prefixes first, bit 0 before bit 1). */
  protected hostNextKey(key: Uint8Array | undefined): Uint8Array | undefined {
    if (!this.root) return undefined;
    let searchRoot: TrieNode | null = this.root;
    const keyOf = (n: TrieNode): Uint8Array => {
      const out = new Uint8Array(this.spec.keySize);
      new DataView(out.buffer).setUint32(0, n.prefixlen, true);
      out.set(n.data, 4);
      return out;
    };
    const leftmost = (from: TrieNode | null): Uint8Array => {
      let next: TrieNode | null = null;
      for (let node = from; node;) {
        if (!node.slot) node = node.child[0];
        else { next = node; node = node.child[0] ?? node.child[1]; }
      }
      return keyOf(next!);
    };
    const prefixlen = key === undefined ? 0 : this.prefixlenOf(key);
    if (key === undefined || prefixlen > this.maxPrefixlen) return leftmost(searchRoot);
    const data = key.subarray(4);
    const stack: TrieNode[] = [];
    let node: TrieNode | null = this.root;
    let m = 0;
    while (node) {
      stack.push(node);
      m = this.match(node, prefixlen, data);
      if (node.prefixlen !== m || node.prefixlen === prefixlen) break;
      node = node.child[bit(data, node.prefixlen)];
    }
    if (!node || node.prefixlen !== m || !node.slot) return leftmost(searchRoot);
    let cur = stack[stack.length - 1];
    for (let sp = stack.length - 1; sp > 0; sp--) {
      const p = stack[sp - 1];
      if (p.child[0] === cur) {
        searchRoot = p.child[1];
        if (searchRoot) return leftmost(searchRoot);
      }
      if (p.slot) return keyOf(p);
      cur = p;
    }
    return undefined;
  }

  protected override updateFailure(errno: number, key: Uint8Array, flags: number): string {
    const what = `update of ${hexBytes(key)} with flags ${flags}`;
    if (errno === ENOSPC) return `${what}: the trie is full (max_entries ${this.maxEntries})`;
    if (errno === EINVAL) return `${what}: flags above BPF_EXIST, or prefixlen ${this.prefixlenOf(key)} above ${this.maxPrefixlen}`;
    return super.updateFailure(errno, key, flags);
  }

  protected override deleteFailure(errno: number, key: Uint8Array): string {
    if (errno === EINVAL) return `delete of ${hexBytes(key)}: prefixlen ${this.prefixlenOf(key)} above ${this.maxPrefixlen}`;
    return errno === ENOENT ? `delete of ${hexBytes(key)}: no entry with exactly this prefix` : super.deleteFailure(errno, key);
  }
}
