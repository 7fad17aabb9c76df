/**
 * The engine registry: every engine this build has, by name. Everything that runs code picks
 * its engine here (the API, the CLI, the raw runner, benchmarks, the differential fuzzer, the
 * conformance and engine tests), so a new engine is one entry in ENGINE_KINDS.
 */
import { Instruction } from './isa/instruction.js';
import { predecode } from './lower.js';
import { ExecEnv } from './runtime.js';
import { Engine, EngineKind } from './shell.js';
import { Interpreter } from '../interp/interpreter.js';
import { JitProgram } from '../jit/jit.js';
import { WasmProgram } from '../wasm/engine.js';

const interp: EngineKind = {
  name: 'interp',
  create: (code, env) => new Interpreter(interp, code, env),
};

const jit: EngineKind = {
  name: 'jit',
  create: (code, env) => new JitProgram(jit, code, env),
};

const wasm: EngineKind = {
  name: 'wasm',
  create: (code, env) => new WasmProgram(wasm, code, env),
};

export const ENGINE_KINDS = { interp, jit, wasm } as const;

export type EngineName = keyof typeof ENGINE_KINDS;

/** Every engine's name, in registry order. */
export const ENGINES = Object.keys(ENGINE_KINDS) as readonly EngineName[];

/** The engine programs run on unless told otherwise. */
export const DEFAULT_ENGINE: EngineName = 'jit';

/** The engine whose `listing()` is the JavaScript it runs (`disasm --emit-js`). */
export const JS_EMITTING_ENGINE: EngineName = 'jit';

/** Whether `name` is an engine of this build. */
export function hasEngine(name: string): name is EngineName {
  return Object.hasOwn(ENGINE_KINDS, name);
}

/** Validates and lowers `insns`, then builds them for the engine `name`. */
export function createEngine(name: EngineName, insns: readonly Instruction[], env: ExecEnv): Engine {
  return ENGINE_KINDS[name].create(predecode(insns, env), env);
}
