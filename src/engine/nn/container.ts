// nn.Sequential, nn.ModuleList and nn.ModuleDict (torch/nn/modules/container.py): children named
// 0, 1, … (or by their keys), in order.
import { Tensor } from '../tensor.js';
import { ArgumentError } from '../check.js';
import { Module, type TensorModule } from './module.js';
import { alias } from './util.js';

function checkModule(op: string, m: unknown, i: number | string): Module {
  if (!(m instanceof Module)) throw new ArgumentError(op, `modules[${i}]`, 'must be a Module');
  return m;
}

/** nn.ModuleList: an indexed list of submodules. */
export class ModuleList<M extends Module = Module> extends Module implements Iterable<M> {
  private readonly items: M[] = [];

  constructor(modules: Iterable<M> = []) {
    super();
    for (const m of modules) this.append(m);
  }

  // own properties first (parameters or buffers registered on the container itself), then the list
  protected override _members(): [string, unknown][] {
    return [...super._members(), ...this.items.map((m, i): [string, unknown] => [String(i), m])];
  }

  append(m: M): this {
    this.items.push(checkModule('ModuleList.append', m, this.items.length) as M);
    return this;
  }

  extend(ms: Iterable<M>): this {
    for (const m of ms) this.append(m);
    return this;
  }

  get length(): number { return this.items.length; }

  /** list[i]; negative i counts from the end. */
  at(i: number): M {
    const n = this.items.length;
    if (!Number.isInteger(i) || i < -n || i >= n) throw new RangeError(`ModuleList: index ${i} out of range for ${n} modules`);
    return this.items[i < 0 ? i + n : i]!;
  }

  [Symbol.iterator](): Iterator<M> { return this.items[Symbol.iterator](); }
}

/** nn.Sequential: children 0, 1, … (or named), each fed the previous one's output. */
export class Sequential extends Module implements Iterable<TensorModule> {
  private readonly items = new Map<string, TensorModule>();

  constructor(...modules: TensorModule[] | [Map<string, TensorModule>]) {
    super();
    if (modules.length === 1 && modules[0] instanceof Map) {
      for (const [k, m] of modules[0]) this.add(k, m);
    } else {
      (modules as TensorModule[]).forEach((m, i) => this.add(String(i), m));
    }
  }

  protected override _members(): [string, unknown][] {
    return [...super._members(), ...this.items.entries()];
  }

  private add(name: string, m: TensorModule): void {
    if (typeof name !== 'string' || name === '' || name.includes('.')) throw new ArgumentError('Sequential', 'name', `must be a non-empty string without '.', got ${JSON.stringify(name)}`);
    checkModule('Sequential', m, name);
    if (typeof (m as { forward?: unknown }).forward !== 'function') throw new ArgumentError('Sequential', `modules[${name}]`, 'has no forward(x) method');
    this.items.set(name, m);
  }

  append(m: TensorModule): this {
    this.add(String(this.items.size), m);
    return this;
  }

  get length(): number { return this.items.size; }

  at(i: number): TensorModule {
    const list = [...this.items.values()];
    const n = list.length;
    if (!Number.isInteger(i) || i < -n || i >= n) throw new RangeError(`Sequential: index ${i} out of range for ${n} modules`);
    return list[i < 0 ? i + n : i]!;
  }

  [Symbol.iterator](): Iterator<TensorModule> { return this.items.values(); }

  /** Sequential.forward; intermediate outputs are freed as soon as the next module has used them. */
  forward(x: Tensor): Tensor {
    let cur = alias('Sequential', x);
    for (const m of this.items.values()) {
      const next = m.forward(cur);
      if (next !== cur) cur.dispose();
      cur = next;
    }
    return cur;
  }
}

/** nn.ModuleDict: submodules by name, in insertion order. */
export class ModuleDict<M extends Module = Module> extends Module {
  private readonly items = new Map<string, M>();

  constructor(modules: Map<string, M> | Record<string, M> = {}) {
    super();
    const entries = modules instanceof Map ? [...modules.entries()] : Object.entries(modules);
    for (const [k, m] of entries) this.set(k, m);
  }

  protected override _members(): [string, unknown][] {
    return [...super._members(), ...this.items.entries()];
  }

  set(name: string, m: M): this {
    if (typeof name !== 'string' || name === '' || name.includes('.')) throw new ArgumentError('ModuleDict', 'key', `must be a non-empty string without '.', got ${JSON.stringify(name)}`);
    this.items.set(name, checkModule('ModuleDict', m, name) as M);
    return this;
  }

  get(name: string): M {
    const m = this.items.get(name);
    if (!m) throw new RangeError(`ModuleDict: no module named "${name}"`);
    return m;
  }

  has(name: string): boolean { return this.items.has(name); }
  keys(): string[] { return [...this.items.keys()]; }
  values(): M[] { return [...this.items.values()]; }
  entries(): [string, M][] { return [...this.items.entries()]; }
  get size(): number { return this.items.size; }
}
