// Size limits on the parts of a checkpoint that are not tensor data. Tensor data is bounded by
// its declared storage (and, when a model loads it, by what the model needs); these bound the
// rest, which a few compressed bytes could otherwise inflate to gigabytes (docs/security.md).

/** A limit in MiB from the environment (read once), or the default. */
function mib(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback * 2 ** 20;
  const v = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(v) || v < 1) throw new Error(`${name} must be a whole number of MiB >= 1, got ${JSON.stringify(raw)}`);
  return v * 2 ** 20;
}

const maxPickleBytes = mib('VPDSR_MAX_PICKLE_MB', 64);

export const CHECKPOINT_LIMITS = {
  /** A pickle (data.pkl, constants.pkl, a legacy file's object): about 200 bytes per tensor. */
  maxPickleBytes,
  /** Values one pickle may make (a real one makes about one per 10 bytes; each costs 30-60 bytes of heap). */
  maxPickleValues: Math.floor(maxPickleBytes / 8),
  /** Dense bytes that overlapping (expanded, stride-0) views of one file may stand for. */
  maxOverlapBytes: mib('VPDSR_MAX_OVERLAP_MB', 256),
  /** One TorchScript source file under code/ (only its class headers are read). */
  maxCodeBytes: mib('VPDSR_MAX_CODE_MB', 16),
  /** Small text records: byteorder, version. */
  maxSmallRecordBytes: 4096,
} as const;
