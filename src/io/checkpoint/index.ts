// One entry point for every checkpoint format vpdsr reads: it sniffs the format from the bytes
// (not the file name), reads it without executing anything, and names tensors uniformly.

import * as fs from 'node:fs';
import type { RawTensor } from './raw.js';
import { type PyValue, PyDict } from './pickle.js';
import { SafetensorsFile } from './safetensors.js';
import { type CheckpointTensor, TorchStorage, TorchTensor } from './storage.js';
import { loadTorchLegacy, loadTorchZip } from './torch_load.js';
import { CheckpointError, withFile } from './errors.js';
import { isTorchScript, loadTorchScript } from './torchscript.js';
import { flattenTensors } from './tree.js';
import { ZipReader, looksLikeZip } from './zip.js';

export type CheckpointFormat = 'zip' | 'legacy' | 'torchscript' | 'safetensors';

export interface Checkpoint {
  path: string;
  format: CheckpointFormat;
  /** The object tree as the file holds it (TorchScript: the root module record). */
  root: PyValue;
  /** Tensors by flattened key (TorchScript: by state-dict name, in state-dict order). */
  tensors: Map<string, CheckpointTensor>;
  /** safetensors `__metadata__`; empty for the other formats. */
  metadata: Record<string, string>;
  /** TorchScript constants.pkl; empty for the other formats. */
  constants: PyValue[];
}

export interface ReadCheckpointOptions {
  /**
   * Read the tensors' bytes (default true). Without them names, dtypes and shapes are still known
   * and every structural check still runs; reading `.data` then throws. 'lazy': a tensor's bytes
   * are read when its `.data` is first asked for, so a caller can check names, dtypes and shapes
   * against what it needs before reading anything (a model loader reads only what it expects).
   */
  loadData?: boolean | 'lazy';
}

export { CheckpointError } from './errors.js';
export { type CheckpointTensor, TorchStorage, TorchTensor } from './storage.js';
export { type RawTensor, type SafeDType, SAFE_ITEM_SIZE, byteLengthOf, dtypeToSafe, isSafeDType, numelOf, safeToDType } from './raw.js';
export { MAX_HEADER_BYTES, SafetensorsFile, type SafetensorsInfo, readSafetensorsRaw, writeSafetensorsRaw } from './safetensors.js';
export { type PyValue, PyDict, PyFloat, PyObject, PySet, PyTuple } from './pickle.js';

/** The format of a file, from its first bytes; throws for anything else. */
export function sniffFormat(file: string): CheckpointFormat {
  const fd = fs.openSync(file, 'r');
  let head: Buffer;
  let size: number;
  try {
    size = fs.fstatSync(fd).size;
    head = Buffer.alloc(Math.min(size, 16));
    fs.readSync(fd, head, 0, head.length, 0);
  } finally {
    fs.closeSync(fd);
  }
  if (looksLikeZip(head)) {
    const zip = ZipReader.open(file);
    try {
      if (zip.entries.length > 0 && zip.entries.every((e) => !e.name.includes('/') && e.name.endsWith('.npy'))) {
        throw new Error(`${file}: not a checkpoint (a numpy .npz archive): expected safetensors, a torch.save file or a TorchScript archive`);
      }
      return isTorchScript(zip) ? 'torchscript' : 'zip';
    } finally {
      zip.close();
    }
  }
  // safetensors first: its 8-byte header length can start with 0x80 too (a 128-byte header), which
  // would otherwise read as a pickle's PROTO opcode. A pickle never has '{' at byte 8 after a
  // length that fits the file.
  if (head.length >= 9 && head[8] === 0x7b && head.readBigUInt64LE(0) <= BigInt(size - 8)) return 'safetensors';
  // Every torch.save legacy file is a pickle (PROTO opcode first); the reader checks the magic.
  if (head[0] === 0x80) return 'legacy';
  throw new Error(`${file}: not a checkpoint (${whatElse(head)}): expected safetensors, a torch.save file or a TorchScript archive`);
}

/** A word on what a non-checkpoint file looks like, so the refusal is not a puzzle. */
function whatElse(head: Buffer): string {
  if (head.length === 0) return 'empty file';
  if (head[0] === 0x1f && head[1] === 0x8b) return 'gzip-compressed data';
  if (head.toString('latin1', 0, 6) === 'MATLAB') return 'a MATLAB .mat file';
  if (head.toString('latin1', 1, 6) === 'NUMPY') return 'a numpy .npy file';
  if ([...head].every((c) => c === 0x09 || c === 0x0a || c === 0x0d || (c >= 0x20 && c < 0x7f) || c >= 0x80)) return 'text';
  return 'unknown format';
}

/** Reads a checkpoint of any supported format. Errors are CheckpointErrors naming the file. */
export function readCheckpoint(file: string, opts: ReadCheckpointOptions = {}): Checkpoint {
  const format = withFile(file, () => sniffFormat(file));
  const base = { path: file, format, metadata: {}, constants: [] };
  switch (format) {
    case 'legacy': {
      const r = loadTorchLegacy(file, opts);
      return { ...base, root: r.root, tensors: withFile(file, () => flattenTensors(r.root)) };
    }
    case 'zip':
    case 'torchscript': {
      const zip = withFile(file, () => ZipReader.open(file));
      try {
        if (format === 'zip') {
          const r = loadTorchZip(zip, opts);
          return { ...base, root: r.root, tensors: withFile(file, () => flattenTensors(r.root)) };
        }
        const r = loadTorchScript(zip, opts);
        return { ...base, root: r.root, tensors: new Map(r.stateDict), constants: r.constants };
      } finally {
        zip.close();
      }
    }
    case 'safetensors':
      return withFile(file, () => readSafetensorsCheckpoint(file, opts));
  }
}

/** safetensors as a checkpoint: a dict of contiguous tensors, each its own storage. */
function readSafetensorsCheckpoint(file: string, opts: ReadCheckpointOptions): Checkpoint {
  const f = SafetensorsFile.open(file);
  try {
    const root = new PyDict();
    const tensors = new Map<string, CheckpointTensor>();
    for (const name of f.names()) {
      const info = f.info(name);
      const numel = info.shape.reduce((a, b) => a * b, 1);
      const storage = new TorchStorage(info.dtype, name, 'cpu', numel);
      if (opts.loadData === 'lazy') {
        storage.loader = () => {
          const again = SafetensorsFile.open(file);
          try { return again.readRaw(name).data; } finally { again.close(); }
        };
      } else if (opts.loadData !== false) {
        storage.bytes = f.readRaw(name).data;
      }
      const t = new TorchTensor(storage, 0, info.shape, contiguousStride(info.shape), false, false);
      root.set(name, t);
      tensors.set(name, t);
    }
    return { path: file, format: 'safetensors', root, tensors, metadata: { ...f.metadata }, constants: [] };
  } finally {
    f.close();
  }
}

export function contiguousStride(shape: readonly number[]): number[] {
  const stride = new Array<number>(shape.length);
  let s = 1;
  for (let k = shape.length - 1; k >= 0; k--) {
    stride[k] = s;
    s *= Math.max(shape[k]!, 1);
  }
  return stride;
}

export interface StateDictOptions {
  /** Keys under which a checkpoint may wrap its state dict, tried in order (default ["state_dict"]). */
  unwrap?: string[];
  /** Prefixes to strip, each at most once per key, in any order (default ["module.", "_orig_mod."]). */
  stripPrefixes?: string[];
}

/**
 * The state dict a model loader wants: the tensors under the first `unwrap` key the root dict
 * has (else the root's), with DDP's `module.` and torch.compile's `_orig_mod.` prefixes removed.
 */
export function stateDictFrom(ckpt: Checkpoint, opts: StateDictOptions = {}): Map<string, RawTensor> {
  const unwrap = opts.unwrap ?? ['state_dict'];
  const strip = opts.stripPrefixes ?? ['module.', '_orig_mod.'];
  let tensors: Map<string, CheckpointTensor> = ckpt.tensors;
  if (ckpt.format !== 'torchscript' && ckpt.root instanceof PyDict) {
    for (const k of unwrap) {
      const v = ckpt.root.get(k);
      if (v instanceof PyDict) {
        tensors = withFile(ckpt.path, () => flattenTensors(v));
        break;
      }
    }
  }
  const out = new Map<string, RawTensor>();
  for (const [key, t] of tensors) {
    const name = stripOnce(key, strip);
    if (out.has(name)) throw new CheckpointError(`${ckpt.path}: keys ${JSON.stringify(key)} and another both become ${JSON.stringify(name)} once prefixes are removed`);
    out.set(name, t);
  }
  return out;
}

function stripOnce(key: string, prefixes: readonly string[]): string {
  const left = new Set(prefixes);
  for (let changed = true; changed;) {
    changed = false;
    for (const p of left) {
      if (key.startsWith(p)) {
        key = key.slice(p.length);
        left.delete(p);
        changed = true;
        break;
      }
    }
  }
  return key;
}
