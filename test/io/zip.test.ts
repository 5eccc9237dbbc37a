// The zip reader on archives built here: stored and deflated entries, ZIP64 extra fields,
// comments after the end record, and the bounds checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ZipReader } from '../../src/io/checkpoint/zip.js';
import { buildZip, tmpDir } from './fixtures.js';

function open(bytes: Uint8Array): ZipReader {
  const f = path.join(tmpDir(), 'a.zip');
  fs.writeFileSync(f, bytes);
  return ZipReader.open(f);
}

const text = Buffer.from('hello, zip '.repeat(100));

test('entries in central-directory order, stored, deflated and with ZIP64 extra fields', () => {
  const z = open(buildZip([
    { name: 'p/a', data: text },
    { name: 'p/b', data: text, deflate: true },
    { name: 'p/c', data: Buffer.from('z64'), zip64: true },
    { name: 'p/empty', data: new Uint8Array(0) },
    { name: 'p/empty-deflated', data: new Uint8Array(0), deflate: true },
  ]));
  try {
    assert.deepEqual(z.entries.map((e) => e.name), ['p/a', 'p/b', 'p/c', 'p/empty', 'p/empty-deflated']);
    assert.equal(z.get('p/b')!.method, 8);
    assert.ok(z.get('p/b')!.compressedSize < text.length);
    assert.equal(z.read('p/a').toString(), text.toString());
    assert.equal(z.read('p/b').toString(), text.toString());
    assert.equal(z.read('p/c').toString(), 'z64');
    assert.equal(z.read('p/empty').length, 0);
    assert.equal(z.read('p/empty-deflated').length, 0);
    assert.throws(() => z.read('p/none'), /no entry p\/none/);
  } finally {
    z.close();
  }
});

test('an archive comment after the end record is allowed', () => {
  const zip = buildZip([{ name: 'p/a', data: text }]);
  const withComment = Buffer.concat([zip, Buffer.from('a comment')]);
  withComment.writeUInt16LE(9, zip.length - 2);
  const z = open(withComment);
  try {
    assert.equal(z.read('p/a').toString(), text.toString());
  } finally {
    z.close();
  }
});

test('a deflated entry that inflates to more than the directory says is refused', () => {
  const zip = buildZip([{ name: 'p/b', data: text, deflate: true }]);
  // Shrink the uncompressed size in the central directory to 10 bytes.
  const cd = zip.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
  zip.writeUInt32LE(10, cd + 24);
  const z = open(zip);
  try {
    assert.throws(() => z.read('p/b'), /does not inflate to 10 bytes|inflates to/);
  } finally {
    z.close();
  }
});

test('not a zip, or a truncated one: one clear error', () => {
  for (const bytes of [Buffer.from('PK\x03\x04 but nothing else'), Buffer.alloc(0), buildZip([{ name: 'p/a', data: text }]).subarray(0, 200)]) {
    assert.throws(() => open(bytes), (e: Error) => /corrupt zip/.test(e.message) && !e.message.includes('\n'));
  }
  // A ZIP64 locator pointing outside the file.
  const zip = buildZip([{ name: 'p/a', data: text }]);
  zip.writeBigUInt64LE(1n << 40n, zip.length - 22 - 20 + 8);
  assert.throws(() => open(zip), /ZIP64 end record offset/);
});
