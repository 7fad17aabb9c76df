/**
 * The synthetic opcodes as a table: every `XOP_*` constant of src/isa/xop.ts, read from that
 * module's exports so that each is written once. test/xop.test.ts checks that these are
 * exactly the xops the lowering (src/lower.ts) produces.
 */
import * as xop from './xop.js';

const entries = Object.entries(xop)
  .filter((e): e is [string, number] => e[0].startsWith('XOP_') && typeof e[1] === 'number')
  .sort((a, b) => a[1] - b[1]);

/**
 * Each synthetic opcode's name, for messages and tests: the constant's name without `XOP_`, in
 * lower case (`sdiv64`, `ldx_w`, `call_kfunc`, `atomic_fetch_add_dw`).
 */
export const XOP_NAMES: ReadonlyMap<number, string> = new Map(
  entries.map(([name, value]) => [value, name.slice('XOP_'.length).toLowerCase()]));

/** Every synthetic opcode, ascending. */
export const XOPS: readonly number[] = entries.map(([, value]) => value);

for (let k = 1; k < entries.length; k++) {
  if (entries[k][1] === entries[k - 1][1]) {
    throw new Error(`xop: ${entries[k - 1][0]} and ${entries[k][0]} are both 0x${entries[k][1].toString(16)}`);
  }
}

/** The name of a synthetic opcode (`sdiv64`), or its number in hex if it has none. */
export function xopName(x: number): string {
  return XOP_NAMES.get(x) ?? `xop 0x${x.toString(16)}`;
}
