// nn.Module (torch/nn/modules/module.py): parameters, buffers and submodules with PyTorch's
// state-dict keys. Like PyTorch's __setattr__, a module's state is read from its own properties in
// the order they were first defined: a Tensor marked by Parameter() is a parameter, a Module is a
// submodule, a name passed to registerBuffer() is a buffer. Other properties (numbers, options,
// plain tensors) are not state, as in PyTorch. With TypeScript class fields a property is defined
// when its field declaration runs, so declare fields in the order the upstream __init__ assigns
// them (or use `declare` and assign in the constructor).
import { Tensor, type Device, type MemoryFormat } from '../tensor.js';
import { type DType, isFloating } from '../dtype.js';
import { keep } from '../scope.js';
import { noGrad } from '../autograd.js';
import { ArgumentError } from '../check.js';

const PARAMETERS = new WeakSet<Tensor>();

/**
 * nn.Parameter(data, requires_grad): marks `data` as a parameter (assign it to a module property),
 * takes it out of every scope (the module owns it now) and sets requiresGrad. A non-leaf is
 * detached first (a new handle on the same storage), as PyTorch's Parameter shares the data.
 */
export function Parameter(data: Tensor, requiresGrad = true): Tensor {
  if (!(data instanceof Tensor) || data.isDisposed) throw new ArgumentError('Parameter', 'data', 'must be a live Tensor');
  if (typeof requiresGrad !== 'boolean') throw new ArgumentError('Parameter', 'requires_grad', 'must be a boolean');
  const p = data.isLeaf ? data : noGrad(() => data.detach());
  keep(p);
  if (requiresGrad && !isFloating(p.dtype)) throw new ArgumentError('Parameter', 'data', `must be floating point to require grad, got ${p.dtype}`);
  p.requiresGrad_(requiresGrad);
  PARAMETERS.add(p);
  return p;
}

/** True when t was made a parameter by Parameter(). */
export function isParameter(t: unknown): t is Tensor {
  return t instanceof Tensor && PARAMETERS.has(t);
}

export type StateDict = Map<string, Tensor>;

export interface LoadResult {
  missingKeys: string[];
  unexpectedKeys: string[];
}

export interface ToOptions {
  dtype?: DType;
  device?: Device;
  memoryFormat?: MemoryFormat;
}

const fmt = (s: number[]): string => `[${s.join(', ')}]`;

export class Module {
  /** train()/eval() flag, as module.training. */
  training = true;
  /** Buffer names → persistent (in the state dict). Names only; the tensors are properties. */
  private readonly _bufferNames = new Map<string, boolean>();

  /** This module's own state in definition order (containers override it). Engine-internal. */
  protected _members(): [string, unknown][] {
    return Object.entries(this);
  }

  /** register_buffer(name, tensor, persistent): defines property `name`; the module owns the tensor. */
  registerBuffer(name: string, t: Tensor | null, persistent = true): Tensor | null {
    const op = 'registerBuffer';
    if (typeof name !== 'string' || name === '' || name.includes('.')) throw new ArgumentError(op, 'name', `must be a non-empty string without '.', got ${JSON.stringify(name)}`);
    if (t !== null && (!(t instanceof Tensor) || t.isDisposed)) throw new ArgumentError(op, 'tensor', 'must be a live Tensor or null');
    if (typeof persistent !== 'boolean') throw new ArgumentError(op, 'persistent', 'must be a boolean');
    const cur = (this as Record<string, unknown>)[name];
    if (!this._bufferNames.has(name) && (cur instanceof Module || isParameter(cur))) throw new ArgumentError(op, 'name', `"${name}" is already a submodule or parameter`);
    if (t !== null) keep(t);
    this._bufferNames.set(name, persistent);
    (this as Record<string, unknown>)[name] = t;
    return t;
  }

  /** add_module / register_module(name, module): for names only known at run time (e.g. `layer${i}`). */
  registerModule<M extends Module>(name: string, m: M | null): M | null {
    this.checkName('registerModule', name);
    if (m !== null && !(m instanceof Module)) throw new ArgumentError('registerModule', 'module', 'must be a Module or null');
    (this as Record<string, unknown>)[name] = m;
    return m;
  }

  /** register_parameter(name, tensor): marks the tensor with Parameter() (keeping its requiresGrad if it already is one). */
  registerParameter(name: string, t: Tensor | null): Tensor | null {
    this.checkName('registerParameter', name);
    if (t !== null && (!(t instanceof Tensor) || t.isDisposed)) throw new ArgumentError('registerParameter', 'param', 'must be a live Tensor or null');
    const p = t === null ? null : isParameter(t) ? t : Parameter(t);
    (this as Record<string, unknown>)[name] = p;
    return p;
  }

  private checkName(op: string, name: unknown): void {
    if (typeof name !== 'string' || name === '' || name.includes('.')) throw new ArgumentError(op, 'name', `must be a non-empty string without '.', got ${JSON.stringify(name)}`);
    if (this._bufferNames.has(name)) throw new ArgumentError(op, 'name', `"${name}" is already a buffer`);
    if (name === 'training' || name === '_bufferNames' || typeof (this as Record<string, unknown>)[name] === 'function') throw new ArgumentError(op, 'name', `"${name}" is a reserved Module attribute`);
  }

  /** This module's own parameters (not recursive), in definition order. */
  private ownParameters(): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [k, v] of this._members()) if (isParameter(v) && !this._bufferNames.has(k)) out.push([k, v]);
    return out;
  }

  private ownBuffers(persistentOnly: boolean): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [k, v] of this._members()) {
      const p = this._bufferNames.get(k);
      if (p === undefined || !(v instanceof Tensor)) continue;
      if (!persistentOnly || p) out.push([k, v]);
    }
    return out;
  }

  /** named_children: direct submodules in definition order. */
  namedChildren(): [string, Module][] {
    const out: [string, Module][] = [];
    for (const [k, v] of this._members()) if (v instanceof Module) out.push([k, v]);
    return out;
  }

  children(): Module[] {
    return this.namedChildren().map(([, m]) => m);
  }

  /** named_modules: this module first (name ''), then every descendant once, depth first. */
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [];
    const seen = new Set<Module>();
    const walk = (m: Module, p: string): void => {
      if (seen.has(m)) return;
      seen.add(m);
      out.push([p, m]);
      for (const [k, c] of m.namedChildren()) walk(c, p ? `${p}.${k}` : k);
    };
    walk(this, prefix);
    return out;
  }

  modules(): Module[] {
    return this.namedModules().map(([, m]) => m);
  }

  /** named_parameters: every parameter once (shared ones under their first name). */
  namedParameters(): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    const seen = new Set<Tensor>();
    for (const [mp, m] of this.namedModules()) {
      for (const [k, p] of m.ownParameters()) {
        if (seen.has(p)) continue;
        seen.add(p);
        out.push([mp ? `${mp}.${k}` : k, p]);
      }
    }
    return out;
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, p]) => p);
  }

  /** named_buffers: persistent and non-persistent buffers. */
  namedBuffers(): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    const seen = new Set<Tensor>();
    for (const [mp, m] of this.namedModules()) {
      for (const [k, b] of m.ownBuffers(false)) {
        if (seen.has(b)) continue;
        seen.add(b);
        out.push([mp ? `${mp}.${k}` : k, b]);
      }
    }
    return out;
  }

  buffers(): Tensor[] {
    return this.namedBuffers().map(([, b]) => b);
  }

  /**
   * state_dict(): per module its parameters, then its persistent buffers, then its children,
   * recursively (PyTorch's order; shared tensors appear under every name). The values are the
   * module's own tensors, not copies (like keep_vars=True): do not dispose them; write to them
   * only inside noGrad.
   */
  stateDict(prefix = ''): StateDict {
    const out: StateDict = new Map();
    const walk = (m: Module, p: string): void => {
      for (const [k, t] of m.ownParameters()) out.set(p + k, t);
      for (const [k, t] of m.ownBuffers(true)) out.set(p + k, t);
      for (const [k, c] of m.namedChildren()) walk(c, `${p}${k}.`);
    };
    walk(this, prefix);
    return out;
  }

  /**
   * load_state_dict(state, strict): copies every entry into the module's existing tensors under
   * noGrad (dtype converted as copy_ does). Everything is checked before anything is copied. A
   * shape mismatch is always an error; missing and unexpected keys are errors when strict, else
   * they are returned.
   */
  loadStateDict(state: Map<string, Tensor> | Record<string, Tensor>, opts: { strict?: boolean } = {}): LoadResult {
    const op = 'loadStateDict';
    const strict = opts.strict ?? true;
    if (typeof strict !== 'boolean') throw new ArgumentError(op, 'strict', 'must be a boolean');
    let entries: [string, unknown][];
    if (state instanceof Map) entries = [...state.entries()];
    else if (state !== null && typeof state === 'object' && !Array.isArray(state)) entries = Object.entries(state);
    else throw new ArgumentError(op, 'state', 'must be a Map<string, Tensor> or an object of Tensors');
    const given = new Map<string, Tensor>();
    for (const [k, v] of entries) {
      if (!(v instanceof Tensor) || v.isDisposed) throw new ArgumentError(op, 'state', `entry "${k}" is not a live Tensor`);
      given.set(k, v);
    }
    const own = this.stateDict();
    const missingKeys = [...own.keys()].filter((k) => !given.has(k));
    const unexpectedKeys = [...given.keys()].filter((k) => !own.has(k));
    const problems: string[] = [];
    for (const [k, dst] of own) {
      const src = given.get(k);
      if (!src) continue;
      const a = src.shape, b = dst.shape;
      if (a.length !== b.length || a.some((v, i) => v !== b[i])) problems.push(`size mismatch for ${k}: the state dict has shape ${fmt(a)}, the model has ${fmt(b)}`);
    }
    if (strict) {
      const keyProblems: string[] = [];
      if (missingKeys.length) keyProblems.push(`missing keys: ${missingKeys.join(', ')}`);
      if (unexpectedKeys.length) keyProblems.push(`unexpected keys: ${unexpectedKeys.join(', ')}`);
      problems.unshift(...keyProblems);
    }
    if (problems.length) throw new Error(`${op}(): ${problems.join('; ')}`);
    noGrad(() => {
      for (const [k, dst] of own) {
        const src = given.get(k);
        if (src) dst.copy_(src);
      }
    });
    return { missingKeys, unexpectedKeys };
  }

  /** train(mode): sets training on this module and every descendant. */
  train(mode = true): this {
    if (typeof mode !== 'boolean') throw new ArgumentError('train', 'mode', 'must be a boolean');
    for (const m of this.modules()) m.training = mode;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** requires_grad_(flag) on every parameter. */
  requiresGrad_(requiresGrad = true): this {
    if (typeof requiresGrad !== 'boolean') throw new ArgumentError('requiresGrad_', 'requires_grad', 'must be a boolean');
    for (const p of this.parameters()) p.requiresGrad_(requiresGrad);
    return this;
  }

  /** zero_grad(set_to_none=True): drops (or zeroes in place) every parameter's gradient. */
  zeroGrad(opts: { setToNone?: boolean } = {}): void {
    const setToNone = opts.setToNone ?? true;
    for (const p of this.parameters()) {
      if (setToNone) { p.grad = null; continue; }
      const g = p.grad;
      if (g) { noGrad(() => g.zero_()); g.dispose(); }
    }
  }

  /** apply(fn): fn on every descendant (children first), then on this module. */
  apply(fn: (m: Module) => void): this {
    if (typeof fn !== 'function') throw new ArgumentError('apply', 'fn', 'must be a function');
    for (const c of this.children()) c.apply(fn);
    fn(this);
    return this;
  }

  /**
   * to(dtype, device, memory_format): converts every parameter and buffer (dtype only for floating
   * point ones, memory format only for 4-D ones, as PyTorch). Converted tensors are new Tensor
   * objects that replace the old ones, which are disposed: build optimizers and EMAs after to().
   */
  to(opts: ToOptions): this {
    if (opts === null || typeof opts !== 'object') throw new ArgumentError('to', 'options', 'must be an object { dtype?, device?, memoryFormat? }');
    const converted = new Map<Tensor, Tensor>(); // shared (tied) tensors are converted once
    noGrad(() => {
      for (const m of this.modules()) {
        const rec = m as unknown as Record<string, unknown>;
        for (const [k, v] of m._members()) {
          const isBuf = m._bufferNames.has(k);
          if (!(v instanceof Tensor) || (!isBuf && !isParameter(v))) continue;
          const done = converted.get(v);
          if (done) { rec[k] = done; continue; }
          const want: ToOptions = {};
          if (opts.dtype !== undefined && isFloating(v.dtype) && v.dtype !== opts.dtype) want.dtype = opts.dtype;
          if (opts.device !== undefined && !sameDevice(v.device, opts.device)) want.device = opts.device;
          if (opts.memoryFormat !== undefined && opts.memoryFormat !== 'preserve' && v.ndim === 4 && !v.isContiguous(opts.memoryFormat)) want.memoryFormat = opts.memoryFormat;
          if (want.dtype === undefined && want.device === undefined && want.memoryFormat === undefined) continue;
          const t = v.to(want);
          const nt = isBuf ? keep(t) : Parameter(t, v.requiresGrad);
          rec[k] = nt;
          converted.set(v, nt);
          v.dispose();
        }
      }
    });
    return this;
  }

  /** Frees every parameter and buffer of this module and its descendants. */
  dispose(): void {
    for (const m of this.modules()) {
      for (const [k, v] of m._members()) {
        if (v instanceof Tensor && (isParameter(v) || m._bufferNames.has(k))) v.dispose();
      }
    }
  }

  /** Number of parameter elements (for summaries). */
  numParameters(): number {
    return this.parameters().reduce((a, p) => a + p.numel, 0);
  }
}

function sameDevice(a: string, b: string): boolean {
  const n = (d: string): string => (d === 'cuda' ? 'cuda:0' : d);
  return n(a) === n(b);
}

/** A module whose forward maps one tensor to one tensor (what Sequential chains). */
export interface TensorModule extends Module {
  forward(x: Tensor): Tensor;
}
