// Autograd controls: noGrad/enableGrad scopes and torch.autograd.grad.
import { native } from '../native/binding.js';
import { Tensor } from './tensor.js';
import { ArgumentError } from './check.js';

/** Runs fn with gradient recording off (torch.no_grad). Synchronous fn only. */
export function noGrad<T>(fn: () => T): T {
  if (typeof fn !== 'function') throw new TypeError('noGrad(fn): fn must be a function');
  const prev = native.setGradEnabled(false);
  try { return fn(); } finally { native.setGradEnabled(prev); }
}

/** Runs fn with gradient recording on (torch.enable_grad). */
export function enableGrad<T>(fn: () => T): T {
  if (typeof fn !== 'function') throw new TypeError('enableGrad(fn): fn must be a function');
  const prev = native.setGradEnabled(true);
  try { return fn(); } finally { native.setGradEnabled(prev); }
}

export function isGradEnabled(): boolean {
  const prev = native.setGradEnabled(true);
  native.setGradEnabled(prev);
  return prev;
}

/** torch.autograd.grad(outputs, inputs, grad_outputs, retain_graph, create_graph, allow_unused) */
export function grad(outputs: Tensor | Tensor[], inputs: Tensor | Tensor[], opts: { gradOutputs?: Tensor[]; retainGraph?: boolean; createGraph?: boolean; allowUnused?: boolean } = {}): (Tensor | null)[] {
  const outs = Array.isArray(outputs) ? outputs : [outputs];
  const ins = Array.isArray(inputs) ? inputs : [inputs];
  for (const [n, l] of [['outputs', outs], ['inputs', ins], ['gradOutputs', opts.gradOutputs ?? []]] as const) {
    l.forEach((t, i) => { if (!(t instanceof Tensor) || t.isDisposed) throw new ArgumentError('grad', `${n}[${i}]`, 'must be a live Tensor'); });
  }
  const r = native.autogradGrad(outs.map((t) => t.handle), ins.map((t) => t.handle), opts.gradOutputs ? opts.gradOutputs.map((t) => t.handle) : null,
    opts.retainGraph ?? opts.createGraph ?? false, opts.createGraph ?? false, opts.allowUnused ?? false);
  return r.map((h) => (h === null ? null : Tensor.fromHandle(h)));
}
