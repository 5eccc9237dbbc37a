// The adversarial discriminator: frozen teacher taps + trainable FiLM heads (VPDSR_METHOD §3.5).
export { DiscriminatorHeads, FiLMHead, encoderFeatures, tapIndices, tapChannels, type EncoderFeatures, type HeadsConfig } from './heads.js';
