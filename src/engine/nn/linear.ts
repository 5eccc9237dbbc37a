// nn.Linear, nn.Identity and nn.Embedding (torch/nn/modules/linear.py, sparse.py).
import { Tensor } from '../tensor.js';
import * as c from '../check.js';
import { ArgumentError } from '../check.js';
import { empty } from '../ops/creation.js';
import { linear } from '../ops/linalg.js';
import { embedding } from '../ops/nnf.js';
import { alias } from './util.js';
import { noGrad } from '../autograd.js';
import { Module, Parameter } from './module.js';
import { kaimingUniform_, uniform_, normal_, calculateFanInAndFanOut } from './init.js';
import type { FactoryOptions } from './conv.js';

export class Linear extends Module {
  readonly in_features: number;
  readonly out_features: number;
  weight: Tensor;
  bias: Tensor | null;

  constructor(inFeatures: number, outFeatures: number, opts: FactoryOptions & { bias?: boolean } = {}) {
    super();
    this.in_features = c.int('Linear', 'in_features', inFeatures, { min: 0, max: 2 ** 31 });
    this.out_features = c.int('Linear', 'out_features', outFeatures, { min: 0, max: 2 ** 31 });
    const bias = c.bool('Linear', 'bias', opts.bias ?? true);
    const f = { dtype: opts.dtype, device: opts.device };
    this.weight = Parameter(empty([this.out_features, this.in_features], f));
    this.bias = bias ? Parameter(empty([this.out_features], f)) : null;
    // Linear.reset_parameters
    kaimingUniform_(this.weight, { a: Math.sqrt(5), generator: opts.generator });
    if (this.bias) {
      const [fanIn] = calculateFanInAndFanOut(this.weight);
      const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
      uniform_(this.bias, -bound, bound, opts.generator);
    }
  }

  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }
}

/** nn.Identity: returns its input (a new handle on the same tensor). */
export class Identity extends Module {
  forward(x: Tensor): Tensor {
    return alias('Identity', x);
  }
}

export class Embedding extends Module {
  readonly num_embeddings: number;
  readonly embedding_dim: number;
  readonly padding_idx: number | null;
  weight: Tensor;

  constructor(numEmbeddings: number, embeddingDim: number, opts: FactoryOptions & { paddingIdx?: number } = {}) {
    super();
    this.num_embeddings = c.int('Embedding', 'num_embeddings', numEmbeddings, { min: 1, max: 2 ** 31 });
    this.embedding_dim = c.int('Embedding', 'embedding_dim', embeddingDim, { min: 1, max: 2 ** 31 });
    let pi: number | null = null;
    if (opts.paddingIdx !== undefined) {
      pi = c.int('Embedding', 'padding_idx', opts.paddingIdx, { min: -this.num_embeddings, max: this.num_embeddings - 1 });
      if (pi < 0) pi += this.num_embeddings;
    }
    this.padding_idx = pi;
    this.weight = Parameter(empty([this.num_embeddings, this.embedding_dim], { dtype: opts.dtype, device: opts.device }));
    // Embedding.reset_parameters: N(0, 1), the padding row zeroed
    normal_(this.weight, 0, 1, opts.generator);
    if (pi !== null) {
      const w = this.weight;
      noGrad(() => { const row = w.select(0, pi!); row.zero_(); row.dispose(); });
    }
  }

  forward(indices: Tensor): Tensor {
    if (!(indices instanceof Tensor)) throw new ArgumentError('Embedding', 'input', 'must be a Tensor of indices');
    return embedding(indices, this.weight, this.padding_idx ?? undefined);
  }
}
