// Engine tensors in and out of safetensors files; the one module here that needs the engine.

import { Tensor, fromBytes } from '../../engine/index.js';
import { type RawTensor, byteLengthOf, dtypeToSafe, safeToDType } from './raw.js';
import { SafetensorsFile, writeSafetensorsRaw } from './safetensors.js';

/** A contiguous CPU tensor holding a copy of the bytes. */
export function rawToTensor(r: RawTensor): Tensor {
  return fromBytes(r.data, safeToDType(r.dtype), [...r.shape]);
}

/** The tensor's bytes, contiguous and row-major (a copy). */
export function tensorToRaw(t: Tensor): RawTensor {
  const dtype = dtypeToSafe(t.dtype);
  const shape = [...t.shape];
  const data = t.toBytes();
  if (data.byteLength !== byteLengthOf(dtype, shape)) {
    throw new Error(`tensor ${dtype} [${shape.join(', ')}] gave ${data.byteLength} bytes`);
  }
  return { dtype, shape, data };
}

/** Loads every tensor of a safetensors file, one read at a time. */
export function loadSafetensors(file: string): Map<string, Tensor> {
  const f = SafetensorsFile.open(file);
  try {
    const out = new Map<string, Tensor>();
    for (const name of f.names()) out.set(name, rawToTensor(f.readRaw(name)));
    return out;
  } finally {
    f.close();
  }
}

export function saveSafetensors(
  file: string,
  tensors: Map<string, Tensor> | Record<string, Tensor>,
  metadata?: Record<string, string>,
): void {
  const list = tensors instanceof Map ? [...tensors] : Object.entries(tensors);
  writeSafetensorsRaw(file, new Map(list.map(([k, t]) => [k, tensorToRaw(t)])), metadata);
}
