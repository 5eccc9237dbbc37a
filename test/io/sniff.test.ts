// Format sniffing: a safetensors header whose length byte is 0x80 must not read as a pickle.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sniffFormat, readCheckpoint } from '../../src/io/checkpoint/index.js';
import { writeSafetensorsRaw } from '../../src/io/checkpoint/safetensors.js';

test('a safetensors file with a 0x80-byte header length sniffs as safetensors', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vpdsr-sniff-'));
  try {
    // Find a tensor name length that makes the padded header exactly 128 bytes (first byte 0x80).
    let file = '';
    for (let n = 1; n < 120; n++) {
      file = path.join(dir, `t${n}.safetensors`);
      writeSafetensorsRaw(file, { ['k'.repeat(n)]: { dtype: 'F32', shape: [1], data: new Uint8Array(4) } });
      if (fs.readFileSync(file)[0] === 0x80) break;
    }
    assert.equal(fs.readFileSync(file)[0], 0x80, 'no name length gave a 128-byte header');
    assert.equal(sniffFormat(file), 'safetensors');
    assert.equal(readCheckpoint(file).format, 'safetensors');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
