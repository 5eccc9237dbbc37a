// TorchScript archives (torch.jit.save; OpenAI's CLIP .pt files): the tensors, never the code.
//
// data.pkl is the module tree: each module is an instance of a `__torch__.*` class (an inert
// PyObject record here) whose BUILD state is a dict of its attributes. constants.pkl is a tuple of
// tensors captured by tracing; its storages live under constants/ with keys of their own. Which
// attributes are parameters and buffers is declared only in each class's source
// (`__parameters__ = [...]`, `__buffers__ = [...]` in code/__torch__/...py); it is read as text to
// order the state dict the way `state_dict()` does, and otherwise ignored.

import { type GlobalImpl, type PyValue, PyDict, PyObject, PyTuple, unpickle } from './pickle.js';
import { TorchStorage, TorchTensor } from './storage.js';
import { type TorchLoadOptions, archivePrefix, attachZipRecord, checkByteOrder, plainGlobals, resolver, storageLoader } from './torch_load.js';
import { withFile } from './errors.js';
import { CHECKPOINT_LIMITS } from './limits.js';
import type { ZipReader } from './zip.js';

export interface TorchScriptResult {
  /** The root module record. */
  root: PyValue;
  /** The tensors of constants.pkl, in order. */
  constants: PyValue[];
  /** `state_dict()`: parameters then buffers of each module, then its submodules', in order. */
  stateDict: Map<string, TorchTensor>;
  /** Every tensor record built, both pickles. */
  tensors: TorchTensor[];
}

/** TorchScript's list and dict helpers each hand back their first argument. */
const JIT_HELPERS = ['build_intlist', 'build_doublelist', 'build_boollist', 'build_tensorlist', 'build_list', 'restore_type_tag'];

function scriptGlobals(module: string, name: string): GlobalImpl | undefined {
  if (module === '__torch__' || module.startsWith('__torch__.')) {
    // A scripted class: NEWOBJ makes an empty record, BUILD fills in its attributes.
    const make = (args: PyValue[]): PyValue => new PyObject(module, name, args);
    return { newObj: make, call: make };
  }
  if (module === 'torch.jit._pickle' && JIT_HELPERS.includes(name)) {
    return {
      call: (args) => {
        if (args.length < 1) throw new Error('expected an argument');
        return args[0]!;
      },
    };
  }
  return undefined;
}

export function isTorchScript(zip: ZipReader): boolean {
  const prefix = archivePrefix(zip);
  return zip.has(`${prefix}/constants.pkl`) || zip.entries.some((e) => e.name.startsWith(`${prefix}/code/`));
}

export function loadTorchScript(zip: ZipReader, opts: TorchLoadOptions = {}): TorchScriptResult {
  return withFile(zip.path, () => {
    const prefix = archivePrefix(zip);
    checkByteOrder(zip, prefix);
    const tensors: TorchTensor[] = [];
    // Each pickle resolves storage keys in its own folder: data/ for data.pkl, constants/ for constants.pkl.
    const read = (pkl: string, folder: string): PyValue => {
      const entry = `${prefix}/${pkl}`;
      if (!zip.has(entry)) throw new Error(`not a TorchScript archive: no ${entry}`);
      return unpickle(zip.read(entry, { bytes: CHECKPOINT_LIMITS.maxPickleBytes, what: 'pickle' }), {
        resolveGlobal: resolver(plainGlobals(tensors), scriptGlobals),
        persistentLoad: storageLoader((s: TorchStorage) => attachZipRecord(zip, `${prefix}/${folder}/${s.key}`, s, opts), false),
      }).value;
    };
    const root = read('data.pkl', 'data');
    const constantsValue = zip.has(`${prefix}/constants.pkl`) ? read('constants.pkl', 'constants') : new PyTuple([]);
    const constants = constantsValue instanceof PyTuple ? [...constantsValue.items] : [constantsValue];
    if (opts.loadData === undefined || opts.loadData === true) for (const t of tensors) void t.data;
    if (!(root instanceof PyObject)) throw new Error('data.pkl does not hold a scripted module');
    const stateDict = new Map<string, TorchTensor>();
    collectStateDict(root, new ClassSources(zip, prefix), stateDict);
    return { root, constants, stateDict, tensors };
  });
}

interface ClassInfo {
  isModule: boolean;
  parameters: string[];
  buffers: string[];
}

/** Class declarations parsed from code/__torch__/... sources, one file at a time, on demand. */
class ClassSources {
  private readonly files = new Map<string, Map<string, ClassInfo>>();
  constructor(private readonly zip: ZipReader, private readonly prefix: string) {}

  /** `__torch__.a.b.C` is declared in code/__torch__/a/b.py. */
  info(obj: PyObject): ClassInfo | undefined {
    let classes = this.files.get(obj.module);
    if (!classes) {
      const entry = `${this.prefix}/code/${obj.module.split('.').join('/')}.py`;
      classes = this.zip.has(entry) ? parseClasses(this.zip.read(entry, { bytes: CHECKPOINT_LIMITS.maxCodeBytes, what: 'TorchScript source file' }).toString('utf8')) : new Map();
      this.files.set(obj.module, classes);
    }
    return classes.get(obj.name);
  }
}

/**
 * Finds `class Name(Base):` blocks and their `__parameters__` / `__buffers__` lists. Every
 * pattern here is anchored and has no nested quantifiers, and list items are read by a scanner,
 * so the time is linear in the source whatever it holds.
 */
export function parseClasses(source: string): Map<string, ClassInfo> {
  const out = new Map<string, ClassInfo>();
  let current: ClassInfo | null = null;
  for (const line of source.split('\n')) {
    const head = /^class\s+(\w+)\s*\(([^)]*)\)\s*:/.exec(line);
    if (head) {
      current = { isModule: head[2]!.trim() === 'Module', parameters: [], buffers: [] };
      out.set(head[1]!, current);
      continue;
    }
    if (!current) continue;
    if (line.length > 0 && !/^\s/.test(line)) {
      current = null;
      continue;
    }
    const list = /^\s+(__parameters__|__buffers__)\s*=\s*\[/.exec(line);
    if (list) {
      const names = stringList(line, list[0].length);
      if (names === null) continue; // not a plain list of string literals: not a declaration we read
      if (list[1] === '__parameters__') current.parameters = names;
      else current.buffers = names;
      current.isModule = true;
    }
  }
  return out;
}

const ESCAPES: Readonly<Record<string, string>> = { '"': '"', '\\': '\\', "'": "'", n: '\n', t: '\t', r: '\r', '/': '/', b: '\b', f: '\f' };

/**
 * The string literals of `"a", "b"]` starting at `from`, up to the closing bracket that must end
 * the line; null when the text is anything else. One pass over the characters.
 */
function stringList(line: string, from: number): string[] | null {
  const names: string[] = [];
  let i = from;
  const skipSpace = (): void => { while (i < line.length && (line[i] === ' ' || line[i] === '\t')) i++; };
  skipSpace();
  if (line[i] === ']') {
    i++;
  } else {
    for (;;) {
      if (line[i] !== '"') return null;
      i++;
      let name = '';
      for (;;) {
        if (i >= line.length) return null;
        const c = line[i]!;
        if (c === '"') break;
        if (c === '\\') {
          const next = line[i + 1];
          if (next === undefined || !(next in ESCAPES)) return null;
          name += ESCAPES[next];
          i += 2;
          continue;
        }
        name += c;
        i++;
      }
      i++;
      names.push(name);
      skipSpace();
      if (line[i] === ',') {
        i++;
        skipSpace();
        // TorchScript writes a comma after the last item too: `["weight", "bias", ]`.
        if (line[i] === ']') { i++; break; }
        continue;
      }
      if (line[i] === ']') { i++; break; }
      return null;
    }
  }
  skipSpace();
  return i === line.length || line[i] === '\r' ? names : null;
}

/**
 * state_dict() order over the module tree, walked with an explicit stack (a file can nest records
 * deeper than the call stack goes): a module's own parameters and buffers, then each submodule's.
 */
function collectStateDict(root: PyObject, sources: ClassSources, out: Map<string, TorchTensor>): void {
  // Each frame is a module still to visit; `path` holds the modules on the way down to it.
  type Frame = { obj: PyObject; prefix: string; depth: number };
  const stack: Frame[] = [{ obj: root, prefix: '', depth: 0 }];
  const path: PyObject[] = [];
  const onPath = new Set<PyObject>();
  while (stack.length > 0) {
    const { obj, prefix, depth } = stack.pop()!;
    while (path.length > depth) onPath.delete(path.pop()!);
    if (onPath.has(obj)) throw new Error(`module ${prefix || '(root)'} contains itself`);
    const info = sources.info(obj);
    if (!info) throw new Error(`no source for class ${obj.className}, so its parameters are unknown`);
    const attrs = obj.dict ?? new PyDict();
    const add = (name: string, parameter: boolean): void => {
      const v = attrs.get(name);
      if (v === null || v === undefined) return; // an optional parameter set to None, e.g. bias=None
      if (!(v instanceof TorchTensor)) throw new Error(`${obj.className}.${name} is declared a ${parameter ? 'parameter' : 'buffer'} but is not a tensor`);
      out.set(`${prefix}${name}`, v.withFlags(v.requiresGrad, parameter));
    };
    for (const p of info.parameters) add(p, true);
    for (const b of info.buffers) add(b, false);
    path.push(obj);
    onPath.add(obj);
    const subs: Frame[] = [];
    for (const [k, v] of attrs.map) {
      if (typeof k !== 'string' || !(v instanceof PyObject)) continue;
      const sub = sources.info(v);
      if (!sub) throw new Error(`no source for class ${v.className} (attribute ${prefix}${k}), so its parameters are unknown`);
      if (sub.isModule) subs.push({ obj: v, prefix: `${prefix}${k}.`, depth: depth + 1 });
    }
    // Pushed in reverse so they are visited in attribute order.
    for (let j = subs.length - 1; j >= 0; j--) stack.push(subs[j]!);
  }
}
