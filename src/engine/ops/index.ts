// The typed allowlist of operators: everything the project may call on ATen goes through these.
export * from './creation.js';
export * from './shape.js';
export * from './math.js';
export * from './reduce.js';
export * from './linalg.js';
export * from './nnf.js';
export * from './random.js';
export * from './fft.js';
export * from './indexing.js';
