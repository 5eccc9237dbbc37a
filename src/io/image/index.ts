// Image I/O on sharp: readImage / writeImage / encodeImage and the quantisation conventions.
export { ImageError } from './errors.js';
export { readImage, maxPixelsLimit, DEFAULT_MAX_PIXELS, type DecodedImage, type ReadImageOptions } from './read.js';
export { writeImage, encodeImage, type EncodeOptions, type WriteOptions } from './write.js';
export { toUint8, toUint16, pixelsToTensor, tensorToPixels } from './quantize.js';
export { READ_FORMATS, WRITE_FORMATS, type ReadFormat, type WriteFormat, formatFromExtension, sniff } from './formats.js';
export { normalizeExif, resetExifOrientation } from './metadata.js';
