import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PduFramer, FramingError } from '../../src/iscsi/pdu/framer.js';
import { encodePdu, newBhs, opcodeOf, ittOf, type Pdu } from '../../src/iscsi/pdu/pdu.js';
import { Opcode } from '../../src/iscsi/pdu/constants.js';
import { parseText, encodeText } from '../../src/iscsi/pdu/text.js';

/** A Login Request written out byte by byte, as RFC 7143 11.12 lays it out. */
function handMadeLogin(): { wire: Buffer; text: string } {
  const text = 'InitiatorName=iqn.x\0SessionType=Discovery\0'; // 42 bytes: 2 bytes of padding
  const bhs = [
    0x43, 0x87, 0x00, 0x00, // immediate Login, T=1 CSG=1 NSG=3, versions
    0x00, 0x00, 0x00, text.length, // no AHS, DataSegmentLength
    0x80, 0x12, 0x34, 0x56, 0x78, 0x9a, 0x00, 0x00, // ISID, TSIH
    0x00, 0x00, 0x00, 0x2a, // ITT 42
    0x00, 0x01, 0x00, 0x00, // CID 1
    0x00, 0x00, 0x00, 0x07, // CmdSN 7
    0x00, 0x00, 0x00, 0x09, // ExpStatSN 9
    ...new Array(16).fill(0),
  ];
  const wire = Buffer.concat([Buffer.from(bhs), Buffer.from(text, 'utf8'), Buffer.alloc(2)]);
  return { wire, text };
}

/** A NOP-Out with a 5-byte ping and both digests, digests taken from RFC 3720's CRC definition. */
function handMadeNop(): Buffer {
  const bhs = Buffer.alloc(48);
  bhs[0] = 0x40;
  bhs[1] = 0x80;
  bhs[7] = 5;
  bhs.writeUInt32BE(0x11223344, 16);
  bhs.writeUInt32BE(0xffffffff, 20);
  return Buffer.concat(encodePdu({ bhs, ahs: Buffer.alloc(0), data: Buffer.from('hello') }, { headerDigest: true, dataDigest: true }));
}

function drain(framer: PduFramer): Pdu[] {
  const out: Pdu[] = [];
  for (let p = framer.next(); p; p = framer.next()) out.push(p);
  return out;
}

test('a hand-made Login Request decodes with its fields and text', () => {
  const { wire, text } = handMadeLogin();
  const framer = new PduFramer({ headerDigest: false, dataDigest: false, maxDataSegmentLength: 8192 });
  framer.push(wire);
  const [pdu, extra] = drain(framer);
  assert.equal(extra, undefined);
  assert.ok(pdu);
  assert.equal(opcodeOf(pdu.bhs), Opcode.LoginRequest);
  assert.equal(ittOf(pdu.bhs), 42);
  assert.equal(pdu.data.toString('utf8'), text);
  assert.deepEqual(parseText(pdu.data), [
    ['InitiatorName', 'iqn.x'],
    ['SessionType', 'Discovery'],
  ]);
  assert.equal(framer.pending, 0);
});

test('framing is the same however the stream is cut: every single split point', () => {
  const { wire } = handMadeLogin();
  const stream = Buffer.concat([wire, wire, wire]);
  for (let cut = 0; cut <= stream.length; cut++) {
    const framer = new PduFramer({ headerDigest: false, dataDigest: false, maxDataSegmentLength: 8192 });
    framer.push(stream.subarray(0, cut));
    const got = drain(framer);
    framer.push(stream.subarray(cut));
    got.push(...drain(framer));
    assert.equal(got.length, 3, `cut at ${cut}`);
    for (const pdu of got) assert.equal(pdu.data.length, 42);
    assert.equal(framer.pending, 0);
  }
});

test('framing survives one byte at a time and every pair of cut points with digests', () => {
  const nop = handMadeNop();
  const stream = Buffer.concat([nop, nop]);
  const options = { headerDigest: true, dataDigest: true, maxDataSegmentLength: 8192 };
  const framer = new PduFramer(options);
  const got: Pdu[] = [];
  for (const byte of stream) {
    framer.push(Buffer.of(byte));
    got.push(...drain(framer));
  }
  assert.equal(got.length, 2);
  assert.equal(got[0]!.data.toString(), 'hello');
  for (let a = 0; a < stream.length; a += 3) {
    for (let b = a; b <= stream.length; b += 5) {
      const f = new PduFramer(options);
      const pieces: Pdu[] = [];
      for (const part of [stream.subarray(0, a), stream.subarray(a, b), stream.subarray(b)]) {
        f.push(part);
        pieces.push(...drain(f));
      }
      assert.equal(pieces.length, 2, `cuts ${a}/${b}`);
      assert.equal(pieces[1]!.data.toString(), 'hello');
    }
  }
});

test('hand-made digests: header CRC sits little-endian after the BHS', () => {
  const nop = handMadeNop();
  // 48 BHS + 4 header digest + 5 data + 3 pad + 4 data digest
  assert.equal(nop.length, 64);
  const corrupt = Buffer.from(nop);
  corrupt[20] ^= 1; // inside the BHS
  const framer = new PduFramer({ headerDigest: true, dataDigest: true, maxDataSegmentLength: 8192 });
  framer.push(corrupt);
  assert.throws(() => framer.next(), (e) => e instanceof FramingError && /header digest/.test(e.message));

  const badData = Buffer.from(nop);
  badData[53] ^= 0xff; // a data byte
  const f2 = new PduFramer({ headerDigest: true, dataDigest: true, maxDataSegmentLength: 8192 });
  f2.push(badData);
  assert.throws(() => f2.next(), (e) => e instanceof FramingError && e.recoverable && /data digest/.test(e.message));
});

test('a data segment larger than we declared is refused before it is buffered', () => {
  const bhs = Buffer.alloc(48);
  bhs[0] = 0x05;
  bhs[5] = 0x10; // 1 MiB
  const framer = new PduFramer({ headerDigest: false, dataDigest: false, maxDataSegmentLength: 262144 });
  framer.push(bhs);
  assert.throws(() => framer.next(), FramingError);
});

test('AHS is framed and returned separately', () => {
  const bhs = newBhs(Opcode.ScsiCommand);
  const ahs = Buffer.from([0x00, 0x05, 0x01, 0x00, 1, 2, 3, 4]);
  const wire = Buffer.concat(encodePdu({ bhs, ahs, data: Buffer.from([9, 9]) }));
  assert.equal(wire.length, 48 + 8 + 4);
  assert.equal(wire[4], 2);
  const framer = new PduFramer({ headerDigest: false, dataDigest: false, maxDataSegmentLength: 8192 });
  framer.push(wire.subarray(0, 50));
  assert.equal(framer.next(), null);
  framer.push(wire.subarray(50));
  const pdu = framer.next()!;
  assert.deepEqual([...pdu.ahs], [...ahs]);
  assert.deepEqual([...pdu.data], [9, 9]);
});

test('encodePdu pads data to 4 bytes and leaves the caller data uncopied', () => {
  const data = Buffer.from('abcdef');
  const parts = encodePdu({ bhs: newBhs(Opcode.NopIn), ahs: Buffer.alloc(0), data });
  assert.equal(parts.length, 3);
  assert.equal(parts[1], data);
  assert.equal(parts[2]!.length, 2);
  assert.equal(parts[0]![7], 6);
});

test('text keys round-trip and malformed items are refused', () => {
  const pairs: Array<[string, string]> = [
    ['HeaderDigest', 'None,CRC32C'],
    ['TargetAlias', 'disk ü'],
  ];
  assert.deepEqual(parseText(encodeText(pairs)), pairs);
  assert.throws(() => parseText(Buffer.from('novalue\0')));
  assert.throws(() => parseText(Buffer.from('=x\0')));
});

test('a data sink takes a straddling data segment as views of the chunks; other PDUs are assembled as usual', () => {
  const bhs = newBhs(Opcode.DataOut);
  bhs.writeUInt32BE(5, 16);
  const payload = Buffer.from(Array.from({ length: 1001 }, (_, i) => i & 0xff));
  const wire = Buffer.concat([...encodePdu({ bhs, ahs: Buffer.alloc(0), data: payload }), handMadeLogin().wire]);
  for (const cuts of [[1], [47], [48], [49], [500], [1048], [1049], [1052], [60, 61, 62, 700], [48, 49, 1048]]) {
    const framer = new PduFramer({ headerDigest: false, dataDigest: false, maxDataSegmentLength: 8192 });
    const asked: number[] = [];
    framer.dataSink = (h) => {
      asked.push(opcodeOf(h));
      return opcodeOf(h) === Opcode.DataOut;
    };
    const chunks: Buffer[] = [];
    const got = [];
    let from = 0;
    for (const cut of [...cuts, wire.length]) {
      // Buffer.alloc, not Buffer.from: each chunk gets its own ArrayBuffer, as socket reads
      // do, so a copy out of the shared pool could not pass for a view below.
      const chunk = Buffer.alloc(cut - from);
      wire.copy(chunk, 0, from, cut);
      chunks.push(chunk);
      framer.push(chunk);
      got.push(...drain(framer));
      from = cut;
    }
    const label = `cuts ${cuts.join(',')}`;
    assert.equal(got.length, 2, label);
    const dataOut = got[0]!;
    // 1052 bytes hold the whole Data-Out: then it is one free view of the first chunk.
    const straddles = cuts[0]! < 1052;
    assert.equal(dataOut.parts !== undefined, straddles, label);
    const pieces = dataOut.parts ?? [dataOut.data];
    assert.ok(Buffer.concat(pieces).equals(payload), label);
    assert.equal(dataOut.parts ? dataOut.data.length : -1, straddles ? 0 : -1, label);
    for (const piece of pieces) {
      assert.ok(piece.length > 0, `${label}: no empty piece`);
      assert.ok(chunks.some((c) => c.buffer === piece.buffer), `${label}: a view of a received chunk, not a copy`);
    }
    assert.equal(ittOf(dataOut.bhs), 5);
    assert.equal(got[1]!.data.length, 42);
    assert.equal(got[1]!.parts, undefined);
    assert.deepEqual(asked, [Opcode.DataOut, Opcode.LoginRequest].slice(0, asked.length));
  }
});
