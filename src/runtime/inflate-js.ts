/**
 * A small zlib (RFC 1950) / deflate (RFC 1951) decoder in plain JavaScript, for the engines that have wasm
 * but neither node:zlib nor DecompressionStream (Firefox 89-112, Safari before 16.4): without it they could
 * not unpack the embedded kernels at all. It also reads deflated zip entries (src/io/zip.ts), which must be
 * read synchronously. It decodes Huffman codes bit by bit from canonical code counts
 * (the approach of zlib's reference decoder, puff.c): slower than a table decoder (~17 ms for the kernels,
 * cold) but about 1 KB.
 *
 * Every read is checked: truncated or corrupt input, a bad code, a distance before the start, output past
 * `maxBytes` or a wrong Adler-32 throws a WasmzooError; no input loops or reads out of bounds.
 */
import { WasmzooError } from '../errors.js';

// Length codes 257..285 and distance codes 0..29: extra bits follow a pattern, bases are running sums.
const LEN_EXTRA = new Uint8Array(29), LEN_BASE = new Uint16Array(29);
const DIST_EXTRA = new Uint8Array(30), DIST_BASE = new Uint16Array(30);
for (let i = 0, len = 3, dist = 1; i < 30; i++) {
  if (i < 29) {
    LEN_EXTRA[i] = i < 8 || i === 28 ? 0 : Math.floor((i - 4) / 4);
    LEN_BASE[i] = i === 28 ? 258 : len;
    len += 1 << LEN_EXTRA[i];
  }
  DIST_EXTRA[i] = i < 4 ? 0 : (i - 2) >> 1;
  DIST_BASE[i] = dist;
  dist += 1 << DIST_EXTRA[i];
}
/** The order code-length code lengths are sent in (RFC 1951 3.2.7). */
const CL_ORDER = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];

/** A canonical Huffman code: how many codes of each length 0..15, and the symbols in code order. */
interface Code { count: Uint16Array; symbol: Uint16Array }

function failAt(what: string, pos: number, input: Uint8Array): never {
  throw new WasmzooError('E_RUNTIME', `cannot inflate: ${what} (input byte ${pos} of ${input.length})`);
}

/** Inflate zlib data (RFC 1950: header, deflate stream, Adler-32), at most `maxBytes` of output. */
export function inflateZlib(input: Uint8Array, maxBytes = 1 << 30): Uint8Array<ArrayBuffer> {
  const fail = (what: string, pos: number) => failAt(what, pos, input);
  if (input.length < 6) fail('too short for zlib data', 0);
  const cmf = input[0], flg = input[1];
  if ((cmf & 15) !== 8 || ((cmf << 8) | flg) % 31 !== 0 || flg & 32) fail('not a zlib deflate stream', 0);
  const { out, end } = inflateStream(input, 2, maxBytes);
  // Adler-32 of the output, big-endian after the last block (at a byte boundary).
  if (end + 4 > input.length) fail('the Adler-32 checksum is missing', end);
  let a = 1, b = 0;
  for (let i = 0; i < out.length;) {
    for (const stop = Math.min(out.length, i + 5552); i < stop; i++) b += a += out[i];
    a %= 65521;
    b %= 65521;
  }
  const sum = ((input[end] << 24) | (input[end + 1] << 16) | (input[end + 2] << 8) | input[end + 3]) >>> 0;
  if (sum !== ((b << 16) | a) >>> 0) fail('the Adler-32 checksum does not match', end);
  return out;
}

/** Inflate a raw deflate stream (RFC 1951, as in zip entries of method 8), at most `maxBytes` of output. */
export function inflateRaw(input: Uint8Array, maxBytes = 1 << 30): Uint8Array<ArrayBuffer> {
  return inflateStream(input, 0, maxBytes).out;
}

/** The deflate stream from byte `start`: its output and the byte after its last block. */
function inflateStream(input: Uint8Array, start: number, maxBytes: number): { out: Uint8Array<ArrayBuffer>; end: number } {
  let pos = start, bitBuf = 0, bitCount = 0;
  let out = new Uint8Array(Math.min(maxBytes, Math.max(1024, input.length * 4))), size = 0;
  const fail = (what: string) => failAt(what, pos, input);
  const bits = (n: number): number => {
    while (bitCount < n) {
      if (pos >= input.length) fail('the data ends early');
      bitBuf |= input[pos++] << bitCount;
      bitCount += 8;
    }
    const v = bitBuf & ((1 << n) - 1);
    bitBuf >>>= n;
    bitCount -= n;
    return v;
  };
  const room = (n: number) => {
    if (size + n <= out.length) return;
    if (size + n > maxBytes) fail(`the output passes the limit of ${maxBytes} bytes`);
    const grown = new Uint8Array(Math.min(maxBytes, Math.max(size + n, out.length * 2)));
    grown.set(out.subarray(0, size));
    out = grown;
  };
  const build = (lengths: ArrayLike<number>, from: number, n: number): Code => {
    const count = new Uint16Array(16), offsets = new Uint16Array(16), symbol = new Uint16Array(n);
    for (let s = 0; s < n; s++) count[lengths[from + s]]++;
    let left = 1;
    for (let len = 1; len < 16; len++) {
      left = (left << 1) - count[len];
      if (left < 0) fail('an over-subscribed Huffman code');
      if (len < 15) offsets[len + 1] = offsets[len] + count[len];
    }
    for (let s = 0; s < n; s++) if (lengths[from + s]) symbol[offsets[lengths[from + s]]++] = s;
    return { count, symbol };
  };
  const decode = ({ count, symbol }: Code): number => {
    for (let len = 1, code = 0, first = 0, index = 0; len < 16; len++) {
      code |= bits(1);
      if (code - first < count[len]) return symbol[index + code - first];
      index += count[len];
      first = (first + count[len]) << 1;
      code <<= 1;
    }
    return fail('a code that is not in its Huffman table');
  };

  let fixed: [Code, Code] | undefined;
  for (let last = 0; !last;) {
    last = bits(1);
    const type = bits(2);
    if (type === 0) {
      bitBuf = bitCount = 0; // stored block: skip to the byte boundary
      if (pos + 4 > input.length) fail('the data ends early');
      const n = input[pos] | (input[pos + 1] << 8);
      if ((n ^ (input[pos + 2] | (input[pos + 3] << 8))) !== 0xffff) fail('a stored block length and its complement disagree');
      pos += 4;
      if (pos + n > input.length) fail('the data ends early');
      room(n);
      out.set(input.subarray(pos, pos + n), size);
      size += n;
      pos += n;
      continue;
    }
    let lit: Code, dist: Code;
    if (type === 1) {
      if (!fixed) {
        const lengths = new Uint8Array(318);
        lengths.fill(8, 0, 144).fill(9, 144, 256).fill(7, 256, 280).fill(8, 280, 288).fill(5, 288);
        fixed = [build(lengths, 0, 288), build(lengths, 288, 30)];
      }
      [lit, dist] = fixed;
    } else if (type === 2) {
      const nLit = bits(5) + 257, nDist = bits(5) + 1, nCl = bits(4) + 4;
      if (nLit > 286 || nDist > 30) fail('too many length or distance codes');
      const lengths = new Uint8Array(nLit + nDist);
      const cl = new Uint8Array(19);
      for (let i = 0; i < nCl; i++) cl[CL_ORDER[i]] = bits(3);
      const clCode = build(cl, 0, 19);
      for (let i = 0; i < nLit + nDist;) {
        const sym = decode(clCode);
        if (sym < 16) { lengths[i++] = sym; continue; }
        if (sym === 16 && i === 0) fail('a repeat with no length before it');
        const value = sym === 16 ? lengths[i - 1] : 0;
        const times = sym === 16 ? 3 + bits(2) : sym === 17 ? 3 + bits(3) : 11 + bits(7);
        if (i + times > nLit + nDist) fail('code lengths repeat past their end');
        lengths.fill(value, i, i += times);
      }
      if (!lengths[256]) fail('no end-of-block code');
      lit = build(lengths, 0, nLit);
      dist = build(lengths, nLit, nDist);
    } else {
      return fail('an invalid block type');
    }
    for (let sym = decode(lit); sym !== 256; sym = decode(lit)) {
      if (sym < 256) { room(1); out[size++] = sym; continue; }
      sym -= 257;
      if (sym >= 29) fail('an invalid length code');
      const n = LEN_BASE[sym] + bits(LEN_EXTRA[sym]);
      const d = decode(dist);
      if (d >= 30) fail('an invalid distance code');
      const back = DIST_BASE[d] + bits(DIST_EXTRA[d]);
      if (back > size) fail('a distance before the start of the output');
      room(n);
      for (let k = 0; k < n; k++, size++) out[size] = out[size - back];
    }
  }

  return { out: out.slice(0, size), end: pos - (bitCount >> 3) };
}
