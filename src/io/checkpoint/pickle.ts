// A restricted unpickler: it understands the pickle opcodes of protocols 0-5 and builds plain
// data from them, but it never imports or calls anything.
//
// Python pickles are programs for a stack machine; GLOBAL/STACK_GLOBAL/INST/OBJ name a Python
// object and REDUCE/NEWOBJ/BUILD call it. Here every name goes through the caller's allowlist
// (`resolveGlobal`), which returns the JS behaviour for the few names it accepts (tensor rebuild
// functions, OrderedDict, ...); any other name stops the read at that opcode with an error naming
// `module.name`. Persistent ids (how torch.save refers to storages) go through `persistentLoad`.
//
// Values: None → null, bool → boolean, int → number (or bigint beyond 2^53), float → PyFloat (so
// 4.0 stays distinct from 4), str → string, bytes/bytearray → Uint8Array, list → PyValue[],
// tuple → PyTuple, dict → PyDict, set/frozenset → PySet.

import { CHECKPOINT_LIMITS } from './limits.js';

/** A Python float (a JS number would lose the int/float distinction that checkpoints carry). */
export class PyFloat {
  constructor(readonly value: number) {}
}

export class PyTuple {
  constructor(readonly items: readonly PyValue[]) {}
  get length(): number {
    return this.items.length;
  }
}

export class PySet {
  constructor(readonly items: PyValue[], readonly frozen: boolean) {}
}

/** dict or collections.OrderedDict, in insertion order; `attrs` holds what BUILD set on it. */
export class PyDict {
  readonly map = new Map<PyValue, PyValue>();
  readonly attrs = new Map<string, PyValue>();
  constructor(readonly type: 'dict' | 'OrderedDict' = 'dict') {}
  get size(): number {
    return this.map.size;
  }
  get(key: PyValue): PyValue | undefined {
    return this.map.get(key);
  }
  set(key: PyValue, value: PyValue): void {
    this.map.set(key, value);
  }
  keys(): PyValue[] {
    return [...this.map.keys()];
  }
}

/**
 * An inert record of an allowlisted class instance (e.g. a TorchScript module): its class name,
 * the arguments it was created with, and the state BUILD gave it. Nothing of the class runs.
 */
export class PyObject {
  state: PyValue = null;
  constructor(readonly module: string, readonly name: string, readonly args: readonly PyValue[] = []) {}
  get className(): string {
    return `${this.module}.${this.name}`;
  }
  /** The attribute dict BUILD gave it, when its state was a dict. */
  get dict(): PyDict | null {
    return this.state instanceof PyDict ? this.state : null;
  }
}

/** Base of values an allowlist creates that are not plain Python data (storages, tensors). */
export abstract class PyExternal {
  abstract readonly pyType: string;
}

/** What GLOBAL pushes for an accepted name: the behaviour the allowlist gives it. */
export class PyGlobal {
  constructor(readonly module: string, readonly name: string, readonly impl: GlobalImpl) {}
  get fullName(): string {
    return `${this.module}.${this.name}`;
  }
}

export interface GlobalImpl {
  /** REDUCE (`f(*args)`), and INST / OBJ. */
  call?: (args: PyValue[]) => PyValue;
  /** NEWOBJ (`cls.__new__(cls, *args)`). */
  newObj?: (args: PyValue[]) => PyValue;
}

export type PyValue =
  | null | boolean | number | bigint | string | Uint8Array
  | PyFloat | PyTuple | PySet | PyDict | PyObject | PyGlobal | PyExternal
  | PyValue[];

export interface UnpickleOptions {
  /** The allowlist: the behaviour of `module.name`, or undefined to refuse it. */
  resolveGlobal: (module: string, name: string) => GlobalImpl | undefined;
  /** Persistent ids (PERSID, BINPERSID); without it they are refused. */
  persistentLoad?: (pid: PyValue) => PyValue;
}

export class PickleError extends Error {
  /** `module.name` of the global that was refused, when that is why the read stopped. */
  readonly refusedGlobal?: string;
  /** The data ended inside the pickle (a caller reading a window of a file may retry with more). */
  readonly truncated: boolean;
  constructor(message: string, opts: { refusedGlobal?: string; truncated?: boolean } = {}) {
    super(message);
    this.name = 'PickleError';
    this.truncated = opts.truncated ?? false;
    if (opts.refusedGlobal !== undefined) this.refusedGlobal = opts.refusedGlobal;
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MAX_LONG_BYTES = 1 << 16;

/** Safe ints as numbers, larger ones as bigint: one representation per value, so Map keys agree. */
function pyInt(v: bigint): number | bigint {
  return v <= MAX_SAFE && v >= -MAX_SAFE ? Number(v) : v;
}

/**
 * Reads one pickle starting at `offset` and returns the value and the offset just past its STOP
 * (the legacy torch.save layout is several pickles back to back).
 */
export function unpickle(data: Uint8Array, options: UnpickleOptions, offset = 0): { value: PyValue; end: number } {
  return new Unpickler(data, offset, options).run();
}

class Unpickler {
  private pos: number;
  private readonly view: DataView;
  // MARK saves the current stack and starts an empty one; popMark hands back what was pushed
  // since and restores the saved one, so marks never mix with values.
  private stack: PyValue[] = [];
  private readonly marks: PyValue[][] = [];
  private readonly memo = new Map<number, PyValue>();
  // Values pushed and marks opened so far: each opcode byte can make an object, so a pickle of a
  // few megabytes (deflated to kilobytes) could otherwise fill the JS heap and abort the process.
  private made = 0;

  constructor(private readonly data: Uint8Array, offset: number, private readonly opts: UnpickleOptions) {
    this.pos = offset;
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  }

  run(): { value: PyValue; end: number } {
    for (;;) {
      const at = this.pos;
      const op = this.u8();
      switch (op) {
        // ---- framing and protocol
        case 0x80: { // PROTO
          const p = this.u8();
          if (p > 5) throw this.err(at, `unsupported pickle protocol ${p}`);
          break;
        }
        case 0x95: this.take(8); break; // FRAME: a length hint only
        case 0x2e: { // STOP
          const v = this.pop(at);
          if (this.stack.length !== 0 || this.marks.length !== 0) throw this.err(at, 'STOP with values left on the stack');
          return { value: v, end: this.pos };
        }
        // ---- stack manipulation
        case 0x28: this.count(); this.marks.push(this.stack); this.stack = []; break; // MARK
        case 0x30: this.pop(at); break; // POP
        case 0x31: this.popMark(at); break; // POP_MARK
        case 0x32: this.push(this.top(at)); break; // DUP
        // ---- constants
        case 0x4e: this.push(null); break; // NONE
        case 0x88: this.push(true); break; // NEWTRUE
        case 0x89: this.push(false); break; // NEWFALSE
        // ---- integers
        case 0x4a: this.push(this.view.getInt32(this.take(4), true)); break; // BININT
        case 0x4b: this.push(this.u8()); break; // BININT1
        case 0x4d: this.push(this.view.getUint16(this.take(2), true)); break; // BININT2
        case 0x8a: this.push(this.long(this.u8())); break; // LONG1
        case 0x8b: { // LONG4
          const n = this.view.getInt32(this.take(4), true);
          if (n < 0) throw this.err(at, 'LONG4 with a negative length');
          this.push(this.long(n));
          break;
        }
        case 0x49: this.push(this.textInt(at, this.line(at))); break; // INT
        case 0x4c: this.push(this.textLong(at, this.line(at))); break; // LONG
        // ---- floats
        case 0x47: this.push(new PyFloat(this.view.getFloat64(this.take(8), false))); break; // BINFLOAT: big-endian
        case 0x46: this.push(new PyFloat(this.textFloat(at, this.line(at)))); break; // FLOAT
        // ---- strings and bytes
        case 0x58: this.push(this.text(at, this.u32len(at))); break; // BINUNICODE
        case 0x8c: this.push(this.text(at, this.u8())); break; // SHORT_BINUNICODE
        case 0x8d: this.push(this.text(at, this.u64len(at))); break; // BINUNICODE8
        case 0x56: this.push(rawUnicodeEscape(this.line(at))); break; // UNICODE
        // Python 2 str: torch.load decodes these with encoding="utf-8"; latin-1 keeps odd bytes.
        case 0x55: this.push(py2str(this.bytes(this.u8()))); break; // SHORT_BINSTRING
        case 0x54: this.push(py2str(this.bytes(this.i32len(at)))); break; // BINSTRING
        case 0x53: this.push(py2str(stringLiteral(this.line(at), (m) => this.err(at, m)))); break; // STRING
        case 0x43: this.push(this.bytes(this.u8()).slice()); break; // SHORT_BINBYTES
        case 0x42: this.push(this.bytes(this.u32len(at)).slice()); break; // BINBYTES
        case 0x8e: this.push(this.bytes(this.u64len(at)).slice()); break; // BINBYTES8
        case 0x96: this.push(this.bytes(this.u64len(at)).slice()); break; // BYTEARRAY8
        case 0x97: case 0x98: throw this.err(at, 'out-of-band buffers are not supported'); // NEXT_BUFFER, READONLY_BUFFER
        // ---- tuples
        case 0x29: this.push(new PyTuple([])); break; // EMPTY_TUPLE
        case 0x85: this.push(new PyTuple(this.popN(at, 1))); break; // TUPLE1
        case 0x86: this.push(new PyTuple(this.popN(at, 2))); break; // TUPLE2
        case 0x87: this.push(new PyTuple(this.popN(at, 3))); break; // TUPLE3
        case 0x74: this.push(new PyTuple(this.popMark(at))); break; // TUPLE
        // ---- lists
        case 0x5d: this.push([]); break; // EMPTY_LIST
        case 0x6c: this.push(this.popMark(at)); break; // LIST
        case 0x61: { // APPEND
          const v = this.pop(at);
          this.listAt(at).push(v);
          break;
        }
        case 0x65: { // APPENDS
          const items = this.popMark(at);
          this.listAt(at).push(...items);
          break;
        }
        // ---- dicts
        case 0x7d: this.push(new PyDict()); break; // EMPTY_DICT
        case 0x64: { // DICT
          const items = this.popMark(at);
          this.push(this.fillDict(at, new PyDict(), items));
          break;
        }
        case 0x73: { // SETITEM
          const v = this.pop(at);
          const k = this.pop(at);
          this.dictAt(at).set(k, v);
          break;
        }
        case 0x75: { // SETITEMS
          const items = this.popMark(at);
          this.fillDict(at, this.dictAt(at), items);
          break;
        }
        // ---- sets
        case 0x8f: this.push(new PySet([], false)); break; // EMPTY_SET
        case 0x90: { // ADDITEMS
          const items = this.popMark(at);
          const s = this.top(at);
          if (!(s instanceof PySet) || s.frozen) throw this.err(at, 'ADDITEMS on something that is not a set');
          s.items.push(...items);
          break;
        }
        case 0x91: this.push(new PySet(this.popMark(at), true)); break; // FROZENSET
        // ---- memo
        case 0x70: this.put(at, this.decimal(at, this.line(at))); break; // PUT
        case 0x71: this.put(at, this.u8()); break; // BINPUT
        case 0x72: this.put(at, this.view.getUint32(this.take(4), true)); break; // LONG_BINPUT
        case 0x94: this.put(at, this.memo.size); break; // MEMOIZE
        case 0x67: this.push(this.get(at, this.decimal(at, this.line(at)))); break; // GET
        case 0x68: this.push(this.get(at, this.u8())); break; // BINGET
        case 0x6a: this.push(this.get(at, this.view.getUint32(this.take(4), true))); break; // LONG_BINGET
        // ---- names and calls: everything goes through the allowlist
        case 0x63: { // GLOBAL
          const module = this.asciiLine(at);
          const name = this.asciiLine(at);
          this.push(this.resolve(at, module, name));
          break;
        }
        case 0x93: { // STACK_GLOBAL
          const name = this.pop(at);
          const module = this.pop(at);
          if (typeof module !== 'string' || typeof name !== 'string') throw this.err(at, 'STACK_GLOBAL needs two strings');
          this.push(this.resolve(at, module, name));
          break;
        }
        case 0x69: { // INST: module and class as text lines, arguments since the mark
          const module = this.asciiLine(at);
          const name = this.asciiLine(at);
          const g = this.resolve(at, module, name);
          this.push(this.call(at, g, this.popMark(at)));
          break;
        }
        case 0x6f: { // OBJ: class and arguments since the mark
          const items = this.popMark(at);
          if (items.length === 0) throw this.err(at, 'OBJ without a class');
          this.push(this.call(at, items[0]!, items.slice(1)));
          break;
        }
        case 0x52: { // REDUCE
          const args = this.pop(at);
          const f = this.pop(at);
          if (!(args instanceof PyTuple)) throw this.err(at, 'REDUCE arguments are not a tuple');
          this.push(this.call(at, f, [...args.items]));
          break;
        }
        case 0x81: { // NEWOBJ
          const args = this.pop(at);
          const cls = this.pop(at);
          if (!(args instanceof PyTuple)) throw this.err(at, 'NEWOBJ arguments are not a tuple');
          this.push(this.newObj(at, cls, [...args.items]));
          break;
        }
        case 0x92: { // NEWOBJ_EX
          const kwargs = this.pop(at);
          const args = this.pop(at);
          const cls = this.pop(at);
          if (!(args instanceof PyTuple)) throw this.err(at, 'NEWOBJ_EX arguments are not a tuple');
          if (!(kwargs instanceof PyDict) || kwargs.size > 0) throw this.err(at, 'NEWOBJ_EX with keyword arguments is not supported');
          this.push(this.newObj(at, cls, [...args.items]));
          break;
        }
        case 0x62: { // BUILD
          const state = this.pop(at);
          this.build(at, this.top(at), state);
          break;
        }
        case 0x82: case 0x83: case 0x84: // EXT1, EXT2, EXT4: names from the copyreg registry
          throw this.err(at, 'extension-registry globals (EXT1/EXT2/EXT4) are not supported');
        // ---- persistent ids
        case 0x51: this.push(this.persistent(at, this.pop(at))); break; // BINPERSID
        case 0x50: this.push(this.persistent(at, this.asciiLine(at))); break; // PERSID
        default:
          throw this.err(at, `unknown opcode 0x${op.toString(16).padStart(2, '0')}`);
      }
    }
  }

  // ---- reading bytes, every read bounds-checked

  private err(at: number, msg: string, opts?: { refusedGlobal?: string; truncated?: boolean }): PickleError {
    return new PickleError(`${msg} (pickle byte ${at})`, opts);
  }

  /** The data ends inside the pickle. */
  private eod(at: number): PickleError {
    return this.err(at, 'pickle data ends before its STOP opcode (truncated?)', { truncated: true });
  }

  private take(n: number): number {
    const p = this.pos;
    if (n > this.data.length - p) throw this.eod(p);
    this.pos = p + n;
    return p;
  }

  private u8(): number {
    return this.data[this.take(1)]!;
  }

  private bytes(n: number): Uint8Array {
    const p = this.take(n);
    return this.data.subarray(p, p + n);
  }

  private u32len(at: number): number {
    const n = this.view.getUint32(this.take(4), true);
    if (n > this.data.length - this.pos) throw this.eod(at);
    return n;
  }

  private i32len(at: number): number {
    const n = this.view.getInt32(this.take(4), true);
    if (n < 0) throw this.err(at, 'negative length');
    return n;
  }

  private u64len(at: number): number {
    const n = this.view.getBigUint64(this.take(8), true);
    if (n > BigInt(this.data.length - this.pos)) throw this.eod(at);
    return Number(n);
  }

  private text(at: number, n: number): string {
    try {
      return utf8.decode(this.bytes(n));
    } catch {
      throw this.err(at, 'string is not valid UTF-8');
    }
  }

  /** Bytes up to (not including) the next newline, which is consumed. */
  private line(at: number): Uint8Array {
    const start = this.pos;
    const nl = this.data.indexOf(0x0a, start);
    if (nl < 0) throw this.eod(at);
    this.pos = nl + 1;
    return this.data.subarray(start, nl);
  }

  private asciiLine(at: number): string {
    const b = this.line(at);
    let s = '';
    for (const c of b) {
      if (c < 0x20 || c > 0x7e) throw this.err(at, 'name is not printable ASCII');
      s += String.fromCharCode(c);
    }
    return s;
  }

  /** Little-endian two's complement of n bytes. */
  private long(n: number): number | bigint {
    // Checkpoints hold ints of a few bytes; a megabyte-long one is an attempt to make us spin.
    if (n > MAX_LONG_BYTES) throw this.err(this.pos, `integer of ${n} bytes is too large`);
    const b = this.bytes(n);
    if (n === 0) return 0;
    const hex = Buffer.from(b).reverse().toString('hex');
    let v = BigInt(`0x${hex}`);
    if (b[n - 1]! & 0x80) v -= 1n << BigInt(8 * n);
    return pyInt(v);
  }

  private decimal(at: number, b: Uint8Array): number {
    const s = latin1(b);
    if (!/^\d+$/.test(s)) throw this.err(at, `bad memo key ${JSON.stringify(s)}`);
    return Number(s);
  }

  private textInt(at: number, b: Uint8Array): number | bigint | boolean {
    const s = latin1(b);
    if (s === '00') return false; // protocol 0 spells booleans as INT 00 / 01
    if (s === '01') return true;
    if (s.length > MAX_LONG_BYTES || !/^[+-]?\d+$/.test(s)) throw this.err(at, `bad INT ${JSON.stringify(s)}`);
    return pyInt(BigInt(s));
  }

  private textLong(at: number, b: Uint8Array): number | bigint {
    const s = latin1(b).replace(/L$/, '');
    if (s.length > MAX_LONG_BYTES || !/^[+-]?\d+$/.test(s)) throw this.err(at, `bad LONG ${JSON.stringify(s)}`);
    return pyInt(BigInt(s));
  }

  private textFloat(at: number, b: Uint8Array): number {
    const s = latin1(b).trim();
    const lower = s.toLowerCase();
    if (lower === 'nan' || lower === '-nan') return NaN;
    if (lower === 'inf') return Infinity;
    if (lower === '-inf') return -Infinity;
    if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(s)) throw this.err(at, `bad FLOAT ${JSON.stringify(s)}`);
    return Number(s);
  }

  // ---- the stack

  private push(v: PyValue): void {
    this.count();
    this.stack.push(v);
  }

  private count(): void {
    if (++this.made > CHECKPOINT_LIMITS.maxPickleValues) {
      throw new PickleError(`pickle byte ${this.pos}: the pickle makes more than ${CHECKPOINT_LIMITS.maxPickleValues} values (the limit for a pickle)`);
    }
  }

  private pop(at: number): PyValue {
    if (this.stack.length === 0) throw this.err(at, 'stack underflow');
    return this.stack.pop()!;
  }

  private top(at: number): PyValue {
    if (this.stack.length === 0) throw this.err(at, 'stack underflow');
    return this.stack[this.stack.length - 1]!;
  }

  private popN(at: number, n: number): PyValue[] {
    if (this.stack.length < n) throw this.err(at, 'stack underflow');
    return this.stack.splice(this.stack.length - n, n);
  }

  /** The items pushed since the last MARK; the stack below the mark comes back. */
  private popMark(at: number): PyValue[] {
    const below = this.marks.pop();
    if (below === undefined) throw this.err(at, 'no MARK on the stack');
    const items = this.stack;
    this.stack = below;
    return items;
  }

  private listAt(at: number): PyValue[] {
    const l = this.top(at);
    if (!Array.isArray(l)) throw this.err(at, 'APPEND(S) on something that is not a list');
    return l;
  }

  private dictAt(at: number): PyDict {
    const d = this.top(at);
    if (!(d instanceof PyDict)) throw this.err(at, 'SETITEM(S) on something that is not a dict');
    return d;
  }

  private fillDict(at: number, d: PyDict, items: PyValue[]): PyDict {
    if (items.length % 2 !== 0) throw this.err(at, 'odd number of dict items');
    for (let i = 0; i < items.length; i += 2) d.set(items[i]!, items[i + 1]!);
    return d;
  }

  private put(at: number, key: number): void {
    this.memo.set(key, this.top(at));
  }

  private get(at: number, key: number): PyValue {
    if (!this.memo.has(key)) throw this.err(at, `memo key ${key} was never stored`);
    return this.memo.get(key)!;
  }

  // ---- the allowlist

  private resolve(at: number, module: string, name: string): PyGlobal {
    const impl = this.opts.resolveGlobal(module, name);
    if (!impl) throw this.err(at, `refused global ${module}.${name}: not a tensor, storage or container type`, { refusedGlobal: `${module}.${name}` });
    return new PyGlobal(module, name, impl);
  }

  private call(at: number, f: PyValue, args: PyValue[]): PyValue {
    if (!(f instanceof PyGlobal) || !f.impl.call) throw this.err(at, `${describe(f)} cannot be called`);
    return this.wrap(at, f, () => f.impl.call!(args));
  }

  private newObj(at: number, cls: PyValue, args: PyValue[]): PyValue {
    if (!(cls instanceof PyGlobal) || !cls.impl.newObj) throw this.err(at, `${describe(cls)} cannot be instantiated`);
    return this.wrap(at, cls, () => cls.impl.newObj!(args));
  }

  /** Allowlist behaviours throw plain Errors about their arguments; say where and which call. */
  private wrap(at: number, g: PyGlobal, f: () => PyValue): PyValue {
    try {
      return f();
    } catch (e) {
      if (e instanceof PickleError) throw e;
      throw this.err(at, `${g.fullName}: ${(e as Error).message}`);
    }
  }

  /**
   * BUILD as Python's default __setstate__: a dict state becomes attributes; a (state, slots)
   * pair sets both. Only dicts and inert records accept it.
   */
  private build(at: number, obj: PyValue, state: PyValue): void {
    if (obj instanceof PyObject) {
      obj.state = state;
      return;
    }
    if (obj instanceof PyDict) {
      const parts = state instanceof PyTuple && state.length === 2 ? [...state.items] : [state];
      for (const part of parts) {
        if (part === null) continue;
        if (!(part instanceof PyDict)) throw this.err(at, 'BUILD of a dict with a state that is not a dict');
        for (const [k, v] of part.map) {
          if (typeof k !== 'string') throw this.err(at, 'BUILD attribute names must be strings');
          obj.attrs.set(k, v);
        }
      }
      return;
    }
    throw this.err(at, `BUILD on ${describe(obj)} is not supported`);
  }

  private persistent(at: number, pid: PyValue): PyValue {
    if (!this.opts.persistentLoad) throw this.err(at, 'persistent ids are not supported here');
    try {
      return this.opts.persistentLoad(pid);
    } catch (e) {
      if (e instanceof PickleError) throw e;
      throw this.err(at, `persistent id: ${(e as Error).message}`);
    }
  }
}

/** A short name for a value's Python type, for error messages. */
export function describe(v: PyValue): string {
  if (v === null) return 'None';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number' || typeof v === 'bigint') return 'int';
  if (typeof v === 'string') return 'str';
  if (v instanceof Uint8Array) return 'bytes';
  if (Array.isArray(v)) return 'list';
  if (v instanceof PyFloat) return 'float';
  if (v instanceof PyTuple) return 'tuple';
  if (v instanceof PySet) return v.frozen ? 'frozenset' : 'set';
  if (v instanceof PyDict) return v.type;
  if (v instanceof PyObject) return v.className;
  if (v instanceof PyGlobal) return v.fullName;
  return v.pyType;
}

function latin1(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
}

function py2str(b: Uint8Array): string {
  try {
    return utf8.decode(b);
  } catch {
    return latin1(b);
  }
}

/** UNICODE (protocol 0): raw-unicode-escape, i.e. latin-1 with \uXXXX and \UXXXXXXXX escapes. */
function rawUnicodeEscape(b: Uint8Array): string {
  const s = latin1(b);
  return s.replace(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g, (_, u4: string | undefined, u8: string | undefined) =>
    String.fromCodePoint(parseInt((u4 ?? u8)!, 16)));
}

/** STRING (protocol 0): a quoted Python 2 str literal with backslash escapes. */
function stringLiteral(b: Uint8Array, fail: (m: string) => Error): Uint8Array {
  const q = b[0];
  if (b.length < 2 || (q !== 0x27 && q !== 0x22) || b[b.length - 1] !== q) throw fail('STRING is not a quoted literal');
  const out: number[] = [];
  const simple: Record<string, number> = { n: 10, t: 9, r: 13, '\\': 92, "'": 39, '"': 34, a: 7, b: 8, f: 12, v: 11 };
  for (let i = 1; i < b.length - 1; i++) {
    const c = b[i]!;
    if (c !== 0x5c) { out.push(c); continue; }
    const e = String.fromCharCode(b[++i] ?? 0);
    if (e === 'x') {
      const hex = String.fromCharCode(b[i + 1] ?? 0, b[i + 2] ?? 0);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) throw fail('bad \\x escape in STRING');
      out.push(parseInt(hex, 16));
      i += 2;
    } else if (/[0-7]/.test(e)) {
      let oct = e;
      while (oct.length < 3 && /[0-7]/.test(String.fromCharCode(b[i + 1] ?? 0))) oct += String.fromCharCode(b[++i]!);
      out.push(parseInt(oct, 8) & 0xff);
    } else if (e in simple) {
      out.push(simple[e]!);
    } else {
      out.push(0x5c, e.charCodeAt(0));
    }
  }
  return Uint8Array.from(out);
}
