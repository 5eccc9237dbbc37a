// The restricted unpickler on its own: the opcodes of every protocol (fixtures made by CPython's
// pickle module, quoted below), the allowlist hook on every opcode that names a global, and
// malformed input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type PyValue, type UnpickleOptions, PickleError, PyDict, PyFloat, PyObject, PySet, PyTuple, unpickle } from '../../src/io/checkpoint/pickle.js';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));
const refuseAll: UnpickleOptions = { resolveGlobal: () => undefined };
const load = (s: string, opts: UnpickleOptions = refuseAll): PyValue => unpickle(hex(s), opts).value;

/** Python data as plain JSON-ish values for deepEqual. */
function plain(v: PyValue): unknown {
  if (v instanceof PyDict) return { [`<${v.type}>`]: [...v.map].map(([k, x]) => [plain(k), plain(x)]) };
  if (v instanceof PyTuple) return { tuple: v.items.map(plain) };
  if (v instanceof PyFloat) return { float: v.value };
  if (v instanceof PySet) return { [v.frozen ? 'frozenset' : 'set']: v.items.map(plain) };
  if (v instanceof Uint8Array) return { bytes: [...v] };
  if (Array.isArray(v)) return v.map(plain);
  return v;
}

// pickle.dumps({'a': [1, 2.5, 'x', (True, None)], 'big': 2**70, 'neg': -5, 'u': 'café'}, protocol=p)
const SAMPLE = {
  0: '286470300a56610a70310a286c70320a49310a6146322e350a6156780a70330a61284930310a4e7470340a6173566269670a70350a4c313138303539313632303731373431313330333432344c0a73566e65670a70360a492d350a7356750a70370a56636166e90a70380a732e',
  1: '7d71002858010000006171015d7102284b014740040000000000005801000000787103284930310a4e74710465580300000062696771054c313138303539313632303731373431313330333432344c0a58030000006e656771064afbffffff58010000007571075805000000636166c3a97108752e',
};
const SAMPLE_VALUE = {
  '<dict>': [
    ['a', [1, { float: 2.5 }, 'x', { tuple: [true, null] }]],
    ['big', 2n ** 70n],
    ['neg', -5],
    ['u', 'café'],
  ],
};

test('protocols 0 and 1 (text opcodes, INT 01 as True, LONG with L suffix)', () => {
  assert.deepEqual(plain(load(SAMPLE[0])), SAMPLE_VALUE);
  assert.deepEqual(plain(load(SAMPLE[1])), SAMPLE_VALUE);
});

test('protocol 4 (FRAME, MEMOIZE, short strings, bytes, sets) and 5 (BYTEARRAY8)', () => {
  // {..., 'b': b'\x00\x01', 's': {1}, 'fs': frozenset([2])}, protocol=4
  const p4 = load('80049565000000000000007d94288c0161945d94284b014740040000000000008c017894884e8694658c03626967948a090000000000000000408c036e6567944afbffffff8c0175948c05636166c3a9948c01629443020001948c0173948f94284b01908c02667394284b029194752e');
  assert.deepEqual(plain(p4), { '<dict>': [...SAMPLE_VALUE['<dict>'], ['b', { bytes: [0, 1] }], ['s', { set: [1] }], ['fs', { frozenset: [2] }]] });
  // {'ba': bytearray(b'ab'), 'l': list(range(3))}, protocol=5
  const p5 = load('80059524000000000000007d94288c026261949602000000000000006162948c016c945d94284b004b014b0265752e');
  assert.deepEqual(plain(p5), { '<dict>': [['ba', { bytes: [97, 98] }], ['l', [0, 1, 2]]] });
});

test('memo references keep identity (a list containing itself)', () => {
  // l = []; l.append(l); pickle.dumps(l, protocol=2)
  const v = load('80025d71006800612e');
  assert.ok(Array.isArray(v) && v[0] === v);
});

test('GLOBAL, STACK_GLOBAL and INST all go through the allowlist and are refused by name', () => {
  // OrderedDict([('z', 1), ('a', 2)]) at protocols 0 (GLOBAL + REDUCE) and 4 (STACK_GLOBAL)
  for (const s of ['63636f6c6c656374696f6e730a4f726465726564446963740a70300a28745270310a567a0a70320a49310a7356610a70330a49320a732e',
    '80049530000000000000008c0b636f6c6c656374696f6e73948c0b4f72646572656444696374949394295294288c017a944b018c0161944b02752e']) {
    assert.throws(() => load(s), (e: PickleError) => e.refusedGlobal === 'collections.OrderedDict' && /refused global collections\.OrderedDict/.test(e.message));
    const od = load(s, { resolveGlobal: (m, n) => (`${m}.${n}` === 'collections.OrderedDict' ? { call: () => new PyDict('OrderedDict') } : undefined) });
    assert.deepEqual(plain(od), { '<OrderedDict>': [['z', 1], ['a', 2]] });
  }
  // INST: (S'touch x'\nios\nsystem\n.
  const inst = Buffer.concat([Buffer.from("(S'touch x'\nios\nsystem\n.", 'latin1')]);
  assert.throws(() => unpickle(inst, refuseAll), (e: PickleError) => e.refusedGlobal === 'os.system');
  // OBJ with a class that was allowed as a value but has no behaviour: not callable.
  const obj = Buffer.from('(cpkg\nCls\no.', 'latin1');
  assert.throws(() => unpickle(obj, { resolveGlobal: () => ({}) }), /pkg\.Cls cannot be called/);
});

test('allowlisted classes become inert records; BUILD gives them state', () => {
  // c__torch__.m\nC\n ) \x81 (NEWOBJ) } X'a' K1 s b .
  const p = Buffer.concat([Buffer.from('\x80\x02c__torch__.m\nC\n)\x81}X\x01\x00\x00\x00aK\x01sb.', 'latin1')]);
  const v = unpickle(p, { resolveGlobal: (m, n) => ({ newObj: (args) => new PyObject(m, n, args) }) }).value;
  assert.ok(v instanceof PyObject);
  assert.equal(v.className, '__torch__.m.C');
  assert.deepEqual(plain(v.dict!), { '<dict>': [['a', 1]] });
});

test('numbers: BINFLOAT is big-endian, LONG1 two\'s complement, BININT signed, BININT2 unsigned', () => {
  const f = Buffer.from('\x80\x02G', 'latin1');
  const be = Buffer.alloc(8);
  be.writeDoubleBE(-0.0);
  assert.ok(Object.is((unpickle(Buffer.concat([f, be, Buffer.from('.')]), refuseAll).value as PyFloat).value, -0));
  assert.equal(load('80028a01ff2e'), -1); // LONG1 0xff
  assert.equal(load('80028a0200802e'), -32768); // LONG1 0x8000
  assert.equal(load('80028a00' + '2e'), 0); // LONG1 of length 0
  assert.equal(load('80028a09ffffffffffffffff002e'), 2n ** 64n - 1n);
  assert.equal(load('80028a080100000000002000' + '2e'), 2n ** 53n + 1n); // beyond 2^53: bigint
  assert.equal(load('80028a08ffffffffffff1f00' + '2e'), 2 ** 53 - 1); // within: number
  assert.equal(load('80024affffffff2e'), -1); // BININT
  assert.equal(load('80024dffff2e'), 65535); // BININT2
  assert.equal(load('80028b0100000080' + '2e'), -128); // LONG4
});

test('malformed pickles fail cleanly', () => {
  const bad: [string, RegExp][] = [
    ['8002', /ends before its STOP/], // no STOP
    ['80025801000000', /ends before its STOP/], // string cut short
    ['8002580000ff7f2e', /ends before its STOP/], // huge length
    ['80022e', /stack underflow/],
    ['8002682a2e', /memo key 42 was never stored/],
    ['80024b014b012e', /values left on the stack/],
    ['8002ff', /unknown opcode 0xff/],
    ['8009', /unsupported pickle protocol 9/],
    ['8002822a2e', /extension-registry/],
    ['80024b014b01612e', /not a list/],
    ['8002297d612e', /not a list/],
    ['80024b014b014b0173', /not a dict/],
    ['8002742e', /no MARK/],
    ['80024b01512e', /persistent ids are not supported/],
    ['80028b000000012e', /too large/],
  ];
  for (const [s, re] of bad) {
    assert.throws(() => load(s), (e: Error) => e instanceof PickleError && re.test(e.message) && !e.message.includes('\n'), s);
  }
});

test('persistent ids go through the callback', () => {
  // (X'storage' K5 t Q .
  const p = Buffer.from('\x80\x02(X\x07\x00\x00\x00storageK\x05tQ.', 'latin1');
  const seen: PyValue[] = [];
  const v = unpickle(p, { ...refuseAll, persistentLoad: (pid) => { seen.push(pid); return 'loaded'; } }).value;
  assert.equal(v, 'loaded');
  assert.deepEqual(plain(seen[0]!), { tuple: ['storage', 5] });
});

test('several pickles back to back: each read returns where the next begins', () => {
  const two = hex('80024b012e80024b022e');
  const a = unpickle(two, refuseAll);
  const b = unpickle(two, refuseAll, a.end);
  assert.deepEqual([a.value, b.value, b.end], [1, 2, two.length]);
});
