// PyTorch storages and tensors as records: what `_rebuild_tensor_v2` builds, minus the execution.
//
// A tensor in a checkpoint is a view: a storage (a flat array of one dtype, saved once however
// many tensors use it), an element offset into it, a shape and strides in elements. Readers check
// every view against its storage when the view is built, and turn it into contiguous row-major
// bytes when the data is asked for.

import { type RawTensor, type SafeDType, SAFE_ITEM_SIZE, numelOf } from './raw.js';
import { PyExternal } from './pickle.js';
import { CHECKPOINT_LIMITS } from './limits.js';

/** The legacy storage classes torch.save names in its persistent ids, by element type. */
export const STORAGE_DTYPES: Readonly<Record<string, SafeDType>> = {
  'torch.FloatStorage': 'F32',
  'torch.DoubleStorage': 'F64',
  'torch.HalfStorage': 'F16',
  'torch.BFloat16Storage': 'BF16',
  'torch.LongStorage': 'I64',
  'torch.IntStorage': 'I32',
  'torch.ShortStorage': 'I16',
  'torch.CharStorage': 'I8',
  'torch.ByteStorage': 'U8',
  'torch.BoolStorage': 'BOOL',
};

export class TorchStorage extends PyExternal {
  readonly pyType = 'torch.storage';
  /** The storage's bytes once read (null when a checkpoint was opened without its data). */
  bytes: Uint8Array | null = null;
  /** Reads the bytes on first use, for checkpoints opened with `loadData: 'lazy'`. */
  loader: (() => Uint8Array) | null = null;
  constructor(
    readonly dtype: SafeDType,
    /** The key in the file: record name in a zip, address in a legacy file, tensor name in safetensors. */
    readonly key: string,
    readonly location: string,
    readonly numel: number,
  ) {
    super();
  }
  get byteLength(): number {
    return this.numel * SAFE_ITEM_SIZE[this.dtype];
  }
  /** The bytes, read now if the checkpoint was opened lazily. */
  load(): Uint8Array {
    if (this.bytes === null) {
      if (this.loader === null) throw new Error(`tensor data was not loaded (storage ${this.key})`);
      this.bytes = this.loader();
      this.loader = null;
    }
    return this.bytes;
  }
}

/** What a reader knows about a tensor: its bytes plus how it sat in the file. */
export interface CheckpointTensor extends RawTensor {
  requiresGrad: boolean;
  /** Built as an nn.Parameter (TorchScript: listed in its module's __parameters__). */
  parameter: boolean;
  stride: number[];
  storageOffset: number;
  storage: TorchStorage;
}

/** The materialised bytes, shared by a tensor and the Parameter records made around it. */
interface DataCell {
  data: Uint8Array | null;
}

export class TorchTensor extends PyExternal implements CheckpointTensor {
  readonly pyType: string;
  private readonly cell: DataCell;

  constructor(
    readonly storage: TorchStorage,
    readonly storageOffset: number,
    readonly shape: number[],
    readonly stride: number[],
    readonly requiresGrad: boolean,
    readonly parameter: boolean,
    cell?: DataCell,
  ) {
    super();
    this.pyType = parameter ? 'torch.nn.Parameter' : 'torch.Tensor';
    this.cell = cell ?? { data: null };
  }

  get dtype(): SafeDType {
    return this.storage.dtype;
  }

  /**
   * Contiguous row-major bytes. When the view is the whole storage in order they are the storage's
   * own bytes (no copy), otherwise a copy; treat them as read-only either way.
   */
  get data(): Uint8Array {
    if (this.cell.data === null) {
      this.cell.data = gather(this.storage.load(), SAFE_ITEM_SIZE[this.dtype], this.storage.numel, this.storageOffset, this.shape, this.stride);
    }
    return this.cell.data;
  }

  /** The same view with other flags (nn.Parameter around a tensor), sharing the bytes. */
  withFlags(requiresGrad: boolean, parameter: boolean): TorchTensor {
    return new TorchTensor(this.storage, this.storageOffset, this.shape, this.stride, requiresGrad, parameter, this.cell);
  }
}

/** Dense bytes of the overlapping views seen so far in one file (see makeTensor). */
export interface OverlapBudget {
  bytes: number;
}


/**
 * Builds a tensor record after checking that every element of the view lies inside the storage;
 * this is where a hostile or damaged file that points past its storage is stopped.
 */
export function makeTensor(storage: TorchStorage, storageOffset: number, shape: number[], stride: number[], requiresGrad: boolean, overlap: OverlapBudget = { bytes: 0 }): TorchTensor {
  if (!Number.isSafeInteger(storageOffset) || storageOffset < 0) throw new Error(`invalid storage offset ${storageOffset}`);
  if (shape.length !== stride.length) throw new Error(`size [${shape.join(', ')}] and stride [${stride.join(', ')}] differ in length`);
  for (const s of stride) if (!Number.isSafeInteger(s) || s < 0) throw new Error(`invalid stride [${stride.join(', ')}]`);
  const numel = numelOf(shape);
  if (numel > 0) {
    let last = storageOffset;
    for (let k = 0; k < shape.length; k++) last += (shape[k]! - 1) * stride[k]!;
    if (!Number.isSafeInteger(last) || last >= storage.numel) {
      throw new Error(`view (offset ${storageOffset}, size [${shape.join(', ')}], stride [${stride.join(', ')}]) reaches element ${last} of a ${storage.numel}-element storage`);
    }
  }
  // Overlapping views (stride 0, or strides smaller than the sizes below them) are legal and
  // PyTorch saves expanded tensors that way, but they let a few bytes of storage stand for
  // gigabytes once made dense, which is how a tiny hostile file exhausts memory. Such views are
  // allowed up to a budget of dense bytes shared by all views of one file.
  if (numel > storage.numel) {
    const dense = numel * SAFE_ITEM_SIZE[storage.dtype];
    overlap.bytes += dense;
    if (overlap.bytes > CHECKPOINT_LIMITS.maxOverlapBytes) {
      throw new Error(`view of ${numel} elements (size [${shape.join(', ')}], stride [${stride.join(', ')}]) overlaps itself: its ${storage.numel}-element storage cannot back it, and the file's overlapping views pass ${CHECKPOINT_LIMITS.maxOverlapBytes} bytes when made dense`);
    }
  }
  return new TorchTensor(storage, storageOffset, shape, stride, requiresGrad, false);
}

/**
 * Copies a strided view into row-major order. Dimensions of size 1 are dropped and neighbours that
 * are contiguous with each other merged, so the common cases are one or a few Buffer copies; only
 * truly strided innermost dimensions copy element by element, through integer arrays (never
 * through floats, which would not keep NaN payloads bit for bit).
 */
export function gather(src: Uint8Array, itemSize: number, storageNumel: number, offset: number, shape: readonly number[], stride: readonly number[]): Uint8Array {
  const numel = numelOf(shape);
  if (numel === 0) return new Uint8Array(0);
  const dims: { size: number; stride: number }[] = [];
  for (let k = 0; k < shape.length; k++) {
    if (shape[k] === 1) continue;
    const prev = dims[dims.length - 1];
    if (prev && prev.stride === stride[k]! * shape[k]!) {
      prev.size *= shape[k]!;
      prev.stride = stride[k]!;
    } else {
      dims.push({ size: shape[k]!, stride: stride[k]! });
    }
  }
  const inner = dims.length > 0 && dims[dims.length - 1]!.stride === 1 ? dims.pop()!.size : 1;
  if (dims.length === 0) {
    // Contiguous: the whole storage is returned as is, a part of it copied.
    if (offset === 0 && inner === storageNumel) return src;
    const part = allocBytes(inner * itemSize);
    part.set(src.subarray(offset * itemSize, (offset + inner) * itemSize));
    return part;
  }
  const out = allocBytes(numel * itemSize);
  const counter = new Array<number>(dims.length).fill(0);
  let base = offset;
  let o = 0;
  const chunk = inner * itemSize;
  const last = dims[dims.length - 1]!;
  const copyRun = runCopier(src, out, itemSize);
  for (;;) {
    // The innermost remaining dimension is strided: one run of `last.size` chunks.
    if (inner === 1) {
      copyRun(base, last.stride, last.size, o);
      o += last.size * itemSize;
    } else {
      for (let i = 0, p = base; i < last.size; i++, p += last.stride) {
        out.set(src.subarray(p * itemSize, p * itemSize + chunk), o);
        o += chunk;
      }
    }
    // Odometer over the outer dimensions.
    let k = dims.length - 2;
    for (; k >= 0; k--) {
      const d = dims[k]!;
      base += d.stride;
      if (++counter[k]! < d.size) break;
      base -= d.stride * d.size;
      counter[k] = 0;
    }
    if (k < 0) break;
  }
  return out;
}

/** A zeroed buffer, or an error that says how large it was (not V8's "Invalid typed array length"). */
export function allocBytes(n: number): Uint8Array {
  try {
    return new Uint8Array(n);
  } catch {
    throw new RangeError(`cannot allocate ${n} bytes (${(n / 2 ** 30).toFixed(1)} GiB) for a tensor`);
  }
}

/** Copies `n` elements `stride` elements apart starting at element `from` to byte `to` of out. */
function runCopier(src: Uint8Array, out: Uint8Array, itemSize: number): (from: number, stride: number, n: number, to: number) => void {
  const aligned = src.byteOffset % itemSize === 0 && out.byteOffset % itemSize === 0;
  if (aligned && (itemSize === 2 || itemSize === 4 || itemSize === 8)) {
    const words = itemSize === 8 ? 2 : 1;
    // Lengths by division, not by shifts: a shift works on 32 bits and turns 2 GiB into a negative.
    const S = itemSize === 2 ? new Uint16Array(src.buffer, src.byteOffset, Math.floor(src.byteLength / 2)) : new Uint32Array(src.buffer, src.byteOffset, Math.floor(src.byteLength / 4));
    const D = itemSize === 2 ? new Uint16Array(out.buffer, out.byteOffset, Math.floor(out.byteLength / 2)) : new Uint32Array(out.buffer, out.byteOffset, Math.floor(out.byteLength / 4));
    const wordSize = itemSize / words;
    return (from, stride, n, to) => {
      let d = to / wordSize;
      if (words === 1) {
        for (let i = 0, s = from; i < n; i++, s += stride) D[d++] = S[s]!;
      } else {
        for (let i = 0, s = from * 2; i < n; i++, s += stride * 2) {
          D[d++] = S[s]!;
          D[d++] = S[s + 1]!;
        }
      }
    };
  }
  return (from, stride, n, to) => {
    for (let i = 0, s = from * itemSize; i < n; i++, s += stride * itemSize) {
      for (let b = 0; b < itemSize; b++) out[to++] = src[s + b]!;
    }
  };
}
