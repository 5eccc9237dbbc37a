// OpenAI CLIP (image and text towers, tokenizer, preprocessing, weight loading) and CLIP-IQA.
export * from './config.js';
export * from './model.js';
export * from './tokenizer.js';
export * from './load.js';
export * from './preprocess.js';
export * from './clipiqa.js';
export * from './encode.js';
