/**
 * Global variables as BTF types them: a variable's bytes in its section image, its value when
 * it is an integer or enum of at most 8 bytes (signed as BTF says), and writes of either.
 */
import { LoadError } from './errors.js';
import type { ObjectSpec, VariableSpec } from './loader/spec.js';

/** A global variable's current bytes and, for integers and enums, its value. */
export interface GlobalValue {
  readonly name: string;
  readonly section: string;
  readonly bytes: Uint8Array;
  /** Signed or unsigned as BTF says; undefined for non-scalars and scalars wider than 8 bytes. */
  readonly value?: bigint;
}

export function findVariable(spec: ObjectSpec, name: string): VariableSpec {
  const v = spec.variables.find((x) => x.name === name);
  if (!v) throw new LoadError(`variable ${name}`, `no such global (have: ${spec.variables.map((x) => x.name).join(', ')})`);
  return v;
}

/** The variable `v` as it stands in `image`, the bytes of its section. */
export function globalValue(spec: ObjectSpec, v: VariableSpec, image: Uint8Array): GlobalValue {
  const bytes = image.slice(v.offset, v.offset + v.size);
  const scalar = spec.btf?.scalarInfo(v.typeId);
  let value: bigint | undefined;
  if (scalar && scalar.size <= 8 && scalar.size === v.size) {
    let u = 0n;
    for (let k = bytes.length - 1; k >= 0; k--) u = (u << 8n) | BigInt(bytes[k]);
    value = scalar.signed ? BigInt.asIntN(8 * scalar.size, u) : u;
  }
  return { name: v.name, section: v.section, bytes, value };
}

/** Writes `value` (an integer, or exactly the variable's bytes) into `image`. */
export function writeVariable(spec: ObjectSpec, v: VariableSpec, image: Uint8Array, value: bigint | number | Uint8Array): void {
  if (value instanceof Uint8Array) {
    if (value.length !== v.size) throw new LoadError(`variable ${v.name}`, `needs ${v.size} bytes, got ${value.length}`);
    image.set(value, v.offset);
    return;
  }
  const scalar = spec.btf?.scalarInfo(v.typeId);
  if (!scalar || scalar.size > 8) throw new LoadError(`variable ${v.name}`, 'is not an integer; write it as bytes');
  writeScalar(image, v.offset, v.size, BigInt(value));
}

/** Little-endian, truncated to `size` bytes. */
export function writeScalar(image: Uint8Array, offset: number, size: number, value: bigint): void {
  let u = BigInt.asUintN(8 * size, value);
  for (let k = 0; k < size; k++, u >>= 8n) image[offset + k] = Number(u & 0xffn);
}
