/**
 * `__kconfig` externs as libbpf resolves them (spec maps-and-kernel-objects §5.1, §5.2;
 * tools/lib/bpf/libbpf.c find_kcfg_type, bpf_object__resolve_externs,
 * bpf_object__process_kconfig_line, set_kcfg_value_*): each extern's type from BTF, the
 * `.kconfig` map's layout, and its bytes from the virtual LINUX_ values and the CONFIG_ lines of
 * the loader's own Kconfig text, then the kernel's. Every refusal is a LoadError with libbpf's
 * reason, naming the extern, or the line of the Kconfig text it came from.
 */
import type { Btf } from '../btf/btf.js';
import { LoadError } from '../errors.js';

/** libbpf's kcfg types. */
export type KconfigType = 'bool' | 'char' | 'int' | 'tristate' | 'string';

export interface KconfigTypeInfo {
  readonly type: KconfigType;
  readonly size: number;
  readonly align: number;
  readonly signed: boolean;
}

/** find_kcfg_type: bool, char, int, libbpf_tristate, char[N]; undefined: not a kconfig type. */
export function kconfigType(btf: Btf, typeId: number): KconfigTypeInfo | undefined {
  const t = btf.resolve(typeId);
  if (t.kind === 'INT') {
    if (t.bitOffset !== 0 || t.bits !== t.size * 8) return undefined;
    if (t.size === 1 && t.bool) return { type: 'bool', size: 1, align: 1, signed: false };
    if (t.size === 1) return { type: 'char', size: 1, align: 1, signed: t.signed };
    if (t.size === 2 || t.size === 4 || t.size === 8) return { type: 'int', size: t.size, align: t.size, signed: t.signed };
    return undefined;
  }
  if ((t.kind === 'ENUM' && t.size === 4) || t.kind === 'ENUM64') {
    return t.name === 'libbpf_tristate' ? { type: 'tristate', size: t.size, align: t.size, signed: false } : undefined;
  }
  if (t.kind === 'ARRAY' && t.nelems > 0) {
    const elem = btf.resolve(t.type);
    if (elem.kind === 'INT' && elem.size === 1 && !elem.bool) return { type: 'string', size: t.nelems, align: 1, signed: false };
  }
  return undefined;
}

/** A kconfig extern as the layout placed it. */
export interface KconfigSlot extends KconfigTypeInfo {
  readonly name: string;
  readonly weak: boolean;
  readonly offset: number;
}

/**
 * The `.kconfig` map's layout (libbpf's cmp_externs): by alignment descending, size ascending,
 * then name; each extern at the next multiple of its alignment. Returns the slots and the size.
 */
export function layoutKconfig(externs: ReadonlyArray<KconfigTypeInfo & { name: string; weak: boolean }>): { slots: KconfigSlot[]; size: number } {
  const sorted = [...externs].sort((a, b) => b.align - a.align || a.size - b.size || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  let size = 0;
  const slots = sorted.map((e) => {
    size = Math.ceil(size / e.align) * e.align;
    const slot = { ...e, offset: size };
    size += e.size;
    return slot;
  });
  return { slots, size };
}

/** A value the host gives for an extern: a number, or a Kconfig value as a .config line has it (y, n, m, "text", 0x10). */
export type KconfigValue = bigint | number | string;

/** Where CONFIG_ values come from, in libbpf's order. */
export interface KconfigSources {
  /** The loader's values (LoadOptions.kconfig / --kconfig), first: libbpf's `kconfig` open option. */
  readonly given?: Readonly<Record<string, KconfigValue>>;
  /** The loader's Kconfig text (--kconfig-file), after the given values; `name` says where it came from. */
  readonly text?: { readonly name: string; readonly content: string };
  /** The running kernel's config (libbpf reads /boot/config-$(uname -r)), for what is still unset. */
  readonly kernel: string;
  /** The virtual externs: LINUX_KERNEL_VERSION, LINUX_HAS_BPF_COOKIE, LINUX_HAS_SYSCALL_WRAPPER. */
  readonly virtual: Readonly<Record<string, bigint>>;
}

/** The `.kconfig` map's bytes: every extern resolved, or the load fails as libbpf's does. */
export function resolveKconfig(slots: readonly KconfigSlot[], size: number, sources: KconfigSources): Uint8Array {
  const image = new Uint8Array(size);
  const view = new DataView(image.buffer);
  const byName = new Map(slots.map((s) => [s.name, s]));
  const set = new Set<string>();

  const fail = (s: KconfigSlot, why: string, where?: string): never => {
    throw new LoadError(where ?? `extern ${s.name}`, where ? `extern (kcfg) '${s.name}': ${why}` : why);
  };
  const setNum = (s: KconfigSlot, v: bigint, where?: string) => {
    if (s.type !== 'int' && s.type !== 'char' && s.type !== 'bool') fail(s, `value '${v}' implies integer, char, or boolean type`, where);
    const u = BigInt.asUintN(64, v);
    if (s.type === 'bool' && u > 1n) fail(s, `value '${u}' isn't boolean compatible`, where);
    if (!inRange(s, u)) fail(s, `value '${u}' doesn't fit in ${s.size} bytes (ERANGE)`, where);
    if (s.size === 8) view.setBigUint64(s.offset, u, true);
    else for (let k = 0; k < s.size; k++) image[s.offset + k] = Number((u >> BigInt(8 * k)) & 0xffn);
    set.add(s.name);
  };
  /** bpf_object__process_kconfig_line's value rules. */
  const setText = (s: KconfigSlot, value: string, where?: string) => {
    if (value === '') fail(s, 'no value', where);
    const c = value[0];
    if (c === 'y' || c === 'n' || c === 'm') {
      if (s.type === 'bool') {
        if (c === 'm') fail(s, `value '${c}' implies tristate or char type`, where);
        image[s.offset] = c === 'y' ? 1 : 0;
      } else if (s.type === 'tristate') {
        view.setUint32(s.offset, c === 'y' ? 1 : c === 'm' ? 2 : 0, true);
      } else if (s.type === 'char') {
        image[s.offset] = c.charCodeAt(0);
      } else {
        fail(s, `value '${c}' implies bool, tristate, or char type`, where);
      }
      set.add(s.name);
    } else if (c === '"') {
      if (s.type !== 'string') fail(s, `value '${value}' implies char array type`, where);
      if (value.length < 2 || !value.endsWith('"')) fail(s, `invalid string config '${value}'`, where);
      const text = value.slice(1, -1).slice(0, s.size - 1);
      for (let k = 0; k < text.length; k++) image[s.offset + k] = text.charCodeAt(k) & 0xff;
      image[s.offset + text.length] = 0;
      set.add(s.name);
    } else {
      const n = parseInteger(value);
      if (n === undefined) fail(s, `value '${value}' isn't a valid integer`, where);
      if (s.type !== 'int' && s.type !== 'char') fail(s, `value '${value}' implies integer type`, where);
      setNum(s, n!, where);
    }
  };

  // Virtual externs (LINUX_*), and names that are neither CONFIG_ nor LINUX_.
  for (const s of slots) {
    if (s.name.startsWith('CONFIG_')) continue;
    const given = sources.given?.[s.name];
    const virtual = sources.virtual[s.name];
    if (given !== undefined) {
      if (typeof given === 'string') setText(s, given); else setNum(s, BigInt(given));
    } else if (virtual !== undefined) {
      setNum(s, virtual);
    } else if (!s.name.startsWith('LINUX_') || !s.weak) {
      fail(s, s.name.startsWith('LINUX_') ? 'unrecognized virtual extern' : 'a __kconfig extern must be named CONFIG_* or LINUX_*');
    }
  }
  // CONFIG_*: the loader's values, its Kconfig text, then the kernel's config; the first wins.
  for (const [name, value] of Object.entries(sources.given ?? {})) {
    const s = byName.get(name);
    if (s === undefined || !name.startsWith('CONFIG_') || set.has(name)) continue;
    if (typeof value === 'string') setText(s, value); else setNum(s, BigInt(value));
  }
  const applyText = (content: string, source: string) => {
    content.split('\n').forEach((raw, k) => {
      const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
      if (!line.startsWith('CONFIG_')) return;
      const where = `${source}:${k + 1}`;
      const eq = line.indexOf('=');
      if (eq < 0) throw new LoadError(where, `failed to parse '${line}': no separator`);
      if (eq === line.length - 1) throw new LoadError(where, `failed to parse '${line}': no value`);
      const s = byName.get(line.slice(0, eq));
      if (s === undefined || set.has(s.name)) return;
      setText(s, line.slice(eq + 1), where);
    });
  };
  if (sources.text) applyText(sources.text.content, sources.text.name);
  if (slots.some((s) => s.name.startsWith('CONFIG_') && !set.has(s.name))) applyText(sources.kernel, 'the simulated kernel config');
  for (const s of slots) {
    if (s.name.startsWith('CONFIG_') && !set.has(s.name) && !s.weak) {
      fail(s, `extern '${s.name}' (strong): not resolved (ESRCH); give it with LoadOptions.kconfig or --kconfig ${s.name}=VALUE`);
    }
  }
  return image;
}

/** strtoull with base auto-detection (0x…, 0…, decimal), the whole text; undefined if it does not parse. */
function parseInteger(text: string): bigint | undefined {
  const m = /^\s*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.exec(text);
  if (!m) return undefined;
  const digits = m[2];
  const v = /^0[xX]/.test(digits) ? BigInt(digits) : digits.length > 1 && digits[0] === '0' ? BigInt('0o' + digits.slice(1)) : BigInt(digits);
  if (v >= 1n << 64n) return undefined; // ERANGE in strtoull
  return m[1] === '-' ? BigInt.asUintN(64, -v) : v;
}

/** is_kcfg_value_in_range: the u64 fits the extern's size (signed: as a two's complement value). */
function inRange(s: KconfigSlot, v: bigint): boolean {
  const bits = BigInt(s.size * 8);
  if (s.size === 8) return true;
  if (s.signed) return BigInt.asUintN(64, v + (1n << (bits - 1n))) < 1n << bits;
  return v >> bits === 0n;
}
