/**
 * A pickle interpreter that builds values and never runs code: the subset of Python's pickle machine that
 * `torch.save` writes (protocol 2, plus the protocol 4 framing/memo opcodes), over a fixed opcode whitelist.
 *
 * Python's unpickler imports any `module.name` a GLOBAL names and calls it on REDUCE: a pickle can run
 * `os.system`. Here a GLOBAL is looked up in the caller's table (`PickleHost.global`); a name outside it is
 * refused at the GLOBAL opcode itself, before any later opcode is read, and REDUCE only calls the table's own
 * TypeScript functions. Opcodes outside the whitelist (NEWOBJ, INST, OBJ, EXT*, the text protocol 0 ones)
 * are refused by name.
 *
 * Safe on hostile bytes: every read is bounds-checked; every opcode consumes at least one byte and does work
 * bounded by what it pops, so a run is linear in the input; the stack, the memo and the mark depth are
 * capped; nothing recurses (consumers of the result look only a few levels deep). Every failure is a
 * WasmzooError('E_PICKLE') naming the opcode and its byte offset.
 *
 * Values: None -> null, bool -> boolean, int -> number (bigint beyond 2^53), float -> PyFloat (kept apart
 * from ints, so a float never passes where a size is expected), str -> string, bytes -> Uint8Array, tuple ->
 * PyTuple, list -> PyList, dict -> PyDict, whitelisted globals -> PyGlobal, and whatever the host's callables
 * return (HostValue). Caller: src/io/pth.ts.
 */
import { WasmzooError } from '../errors.js';

export class PyFloat {
  constructor(readonly value: number) {}
}
export class PyTuple {
  constructor(readonly items: readonly PyValue[]) {}
}
export class PyList {
  readonly items: PyValue[] = [];
}
export class PyDict {
  readonly map = new Map<PyValue, PyValue>();
  /** The state a BUILD gave it (e.g. a state_dict's `_metadata`): kept, never interpreted. */
  attributes: PyValue | undefined;
}
/** A whitelisted global; `call` is what REDUCE runs (absent: the global is a value only, e.g. a storage type). */
export class PyGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
    readonly call?: (args: readonly PyValue[]) => PyValue,
  ) {}
  get qualifiedName(): string {
    return `${this.module}.${this.name}`;
  }
}
/** A value a host callable made (a tensor, a storage): opaque to the interpreter. */
export interface HostValue {
  readonly pyType: string;
}

export type PyValue = null | boolean | number | bigint | string | Uint8Array | PyFloat | PyTuple | PyList | PyDict | PyGlobal | HostValue;

export interface PickleHost {
  /** The global `module.name`, or undefined to refuse it. */
  global(module: string, name: string): PyGlobal | undefined;
  /** BINPERSID: the object a persistent id stands for (torch: a storage). Absent: BINPERSID is refused. */
  persistentLoad?(pid: PyValue): PyValue;
}

export interface PickleLimits {
  /** Items on the stack, all marks together (default 1 << 20). */
  maxStack?: number;
  /** Memo entries (default 1 << 20). */
  maxMemo?: number;
  /** Open MARKs (default 256; torch nests about 4 deep). */
  maxMarks?: number;
}

export interface PickleResult {
  value: PyValue;
  /** Offset just past the STOP opcode (the legacy torch format puts more pickles and data after it). */
  end: number;
}

const DEFAULT_LIMITS: Required<PickleLimits> = { maxStack: 1 << 20, maxMemo: 1 << 20, maxMarks: 256 };
/** Longest LONG1/LONG4 integer accepted, in bytes: bigint parsing of longer ones is quadratic and no torch value needs it. */
const MAX_LONG_BYTES = 64;
/** Longest GLOBAL line (module or name). */
const MAX_GLOBAL_LINE = 256;


const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Run the pickle that starts at `start` in `bytes` up to its STOP. Throws E_PICKLE for anything malformed,
 * outside the whitelist or over a limit. `where` prefixes messages (e.g. "archive/data.pkl").
 */
export function unpickle(bytes: Uint8Array, host: PickleHost, where: string, start = 0, limits: PickleLimits = {}): PickleResult {
  const lim = { ...DEFAULT_LIMITS, ...limits };
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const stack: PyValue[] = [];
  const marks: number[] = [];
  const memo = new Map<number, PyValue>();
  let pos = start;
  let op = 0;
  let opAt = start;

  const opName = (): string => OPCODE_NAMES.get(op) ?? `0x${op.toString(16).padStart(2, '0')}`;
  const fail = (msg: string): never => {
    throw new WasmzooError('E_PICKLE', `${where}: ${msg} (opcode ${opName()} at byte ${opAt})`);
  };
  const need = (n: number): number => {
    if (n > bytes.length - pos) fail(`truncated: needs ${n} more bytes, ${bytes.length - pos} left`);
    const at = pos;
    pos += n;
    return at;
  };
  const push = (v: PyValue): void => {
    if (stack.length >= lim.maxStack) fail(`stack exceeds ${lim.maxStack} items`);
    stack.push(v);
  };
  const pop = (): PyValue => {
    const floor = marks.length ? marks[marks.length - 1]! : 0;
    if (stack.length <= floor) fail(marks.length ? 'pops past the last MARK' : 'stack underflow');
    return stack.pop()!;
  };
  const top = (): PyValue => {
    const floor = marks.length ? marks[marks.length - 1]! : 0;
    if (stack.length <= floor) fail('stack underflow');
    return stack[stack.length - 1]!;
  };
  /** The items since the last MARK, removing them and the mark. */
  const popMark = (): PyValue[] => {
    if (!marks.length) fail('no MARK to pop to');
    const m = marks.pop()!;
    return stack.splice(m);
  };
  const memoPut = (i: number): void => {
    const v = top();
    if (!memo.has(i) && memo.size >= lim.maxMemo) fail(`memo exceeds ${lim.maxMemo} entries`);
    memo.set(i, v);
  };
  const memoGet = (i: number): void => {
    if (!memo.has(i)) fail(`memo key ${i} was never stored`);
    push(memo.get(i)!);
  };
  const text = (n: number): string => {
    const at = need(n);
    try {
      return utf8.decode(bytes.subarray(at, at + n));
    } catch {
      return fail(`string of ${n} bytes is not valid UTF-8`);
    }
  };
  const u64Length = (): number => {
    const at = need(8);
    const n = dv.getBigUint64(at, true);
    if (n > BigInt(bytes.length - pos)) fail(`length ${n} runs past the end (${bytes.length - pos} bytes left)`);
    return Number(n);
  };
  const line = (): string => {
    const from = pos;
    const stop = Math.min(bytes.length, from + MAX_GLOBAL_LINE + 1);
    let i = from;
    while (i < stop && bytes[i] !== 0x0a) i++;
    if (i >= stop) fail(i >= bytes.length ? 'truncated GLOBAL line' : `GLOBAL line longer than ${MAX_GLOBAL_LINE} bytes`);
    pos = i + 1;
    return String.fromCharCode(...bytes.subarray(from, i));
  };
  const resolveGlobal = (module: string, name: string): PyGlobal => {
    const g = host.global(module, name);
    if (!g) {
      return fail(
        `global ${JSON.stringify(`${module}.${name}`).slice(0, 120)} is not allowed: wasmzoo reads tensors and plain containers only ` +
          '(a checkpoint of torch.save(model.state_dict()) or a dict holding one), and never runs pickled code',
      );
    }
    return g;
  };
  const setItems = (dict: PyValue, items: PyValue[]): void => {
    if (!(dict instanceof PyDict)) fail(`sets items on a ${typeName(dict)}, not a dict`);
    if (items.length % 2) fail('odd number of items for SETITEMS');
    const d = dict as PyDict;
    for (let i = 0; i < items.length; i += 2) d.map.set(items[i]!, items[i + 1]!);
  };
  const appendTo = (list: PyValue, items: PyValue[]): void => {
    if (!(list instanceof PyList)) fail(`appends to a ${typeName(list)}, not a list`);
    for (const v of items) (list as PyList).items.push(v);
  };
  const long = (n: number): number | bigint => {
    if (n > MAX_LONG_BYTES) fail(`integer of ${n} bytes (at most ${MAX_LONG_BYTES})`);
    const at = need(n);
    if (n === 0) return 0;
    let v = 0n;
    for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[at + i]!);
    if (bytes[at + n - 1]! & 0x80) v -= 1n << BigInt(8 * n);
    return smallInt(v);
  };

  for (;;) {
    opAt = pos;
    if (pos >= bytes.length) {
      op = -1;
      fail('no STOP opcode before the end of the data');
    }
    op = bytes[pos++]!;
    switch (op) {
      case 0x80: // PROTO
        if (bytes[need(1)]! > 5) fail(`protocol ${bytes[pos - 1]} (at most 5)`);
        break;
      case 0x95: // FRAME: a length hint; the frame's opcodes follow inline
        u64Length();
        break;
      case 0x7d: // EMPTY_DICT
        push(new PyDict());
        break;
      case 0x5d: // EMPTY_LIST
        push(new PyList());
        break;
      case 0x29: // EMPTY_TUPLE
        push(new PyTuple([]));
        break;
      case 0x85: // TUPLE1
        push(new PyTuple([pop()]));
        break;
      case 0x86: { // TUPLE2
        const b = pop();
        push(new PyTuple([pop(), b]));
        break;
      }
      case 0x87: { // TUPLE3
        const c = pop();
        const b = pop();
        push(new PyTuple([pop(), b, c]));
        break;
      }
      case 0x28: // MARK
        if (marks.length >= lim.maxMarks) fail(`more than ${lim.maxMarks} nested MARKs`);
        marks.push(stack.length);
        break;
      case 0x74: // TUPLE
        push(new PyTuple(popMark()));
        break;
      case 0x6c: { // LIST (appended one by one: a spread of a million items would overflow the call stack)
        const l = new PyList();
        appendTo(l, popMark());
        push(l);
        break;
      }
      case 0x64: { // DICT
        const items = popMark();
        const d = new PyDict();
        setItems(d, items);
        push(d);
        break;
      }
      case 0x73: { // SETITEM
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: { // SETITEMS
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x61: { // APPEND
        const v = pop();
        appendTo(top(), [v]);
        break;
      }
      case 0x65: { // APPENDS
        const items = popMark();
        appendTo(top(), items);
        break;
      }
      case 0x4a: // BININT
        push(dv.getInt32(need(4), true));
        break;
      case 0x4b: // BININT1
        push(bytes[need(1)]!);
        break;
      case 0x4d: // BININT2
        push(dv.getUint16(need(2), true));
        break;
      case 0x8a: // LONG1
        push(long(bytes[need(1)]!));
        break;
      case 0x8b: { // LONG4
        const n = dv.getInt32(need(4), true);
        if (n < 0) fail(`negative LONG4 length ${n}`);
        push(long(n));
        break;
      }
      case 0x47: // BINFLOAT (big-endian, unlike everything else)
        push(new PyFloat(dv.getFloat64(need(8), false)));
        break;
      case 0x58: // BINUNICODE
        push(text(dv.getUint32(need(4), true)));
        break;
      case 0x8c: // SHORT_BINUNICODE
        push(text(bytes[need(1)]!));
        break;
      case 0x8d: // BINUNICODE8
        push(text(u64Length()));
        break;
      case 0x43: { // SHORT_BINBYTES
        const n = bytes[need(1)]!;
        const at = need(n);
        push(bytes.slice(at, at + n));
        break;
      }
      case 0x42: { // BINBYTES
        const n = dv.getUint32(need(4), true);
        const at = need(n);
        push(bytes.slice(at, at + n));
        break;
      }
      case 0x8e: { // BINBYTES8
        const n = u64Length();
        const at = need(n);
        push(bytes.slice(at, at + n));
        break;
      }
      case 0x88: // NEWTRUE
        push(true);
        break;
      case 0x89: // NEWFALSE
        push(false);
        break;
      case 0x4e: // NONE
        push(null);
        break;
      case 0x71: // BINPUT
        memoPut(bytes[need(1)]!);
        break;
      case 0x72: // LONG_BINPUT
        memoPut(dv.getUint32(need(4), true));
        break;
      case 0x94: // MEMOIZE
        memoPut(memo.size);
        break;
      case 0x68: // BINGET
        memoGet(bytes[need(1)]!);
        break;
      case 0x6a: // LONG_BINGET
        memoGet(dv.getUint32(need(4), true));
        break;
      case 0x63: { // GLOBAL "module\nname\n"
        const module = line();
        push(resolveGlobal(module, line()));
        break;
      }
      case 0x93: { // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('module and name must be strings');
        push(resolveGlobal(module as string, name as string));
        break;
      }
      case 0x52: { // REDUCE
        const args = pop();
        const fn = pop();
        if (!(fn instanceof PyGlobal)) fail(`calls a ${typeName(fn)}, not a whitelisted global`);
        if (!(args instanceof PyTuple)) fail(`arguments must be a tuple, got a ${typeName(args)}`);
        const g = fn as PyGlobal;
        if (!g.call) fail(`${g.qualifiedName} is not callable here`);
        let out: PyValue;
        try {
          out = g.call!((args as PyTuple).items);
        } catch (e) {
          if (e instanceof WasmzooError) fail(`${g.qualifiedName}: ${e.message}`);
          throw e;
        }
        push(out!);
        break;
      }
      case 0x62: { // BUILD: only a dict's attributes (a state_dict's _metadata), kept and ignored
        const state = pop();
        const obj = top();
        if (!(obj instanceof PyDict)) fail(`sets the state of a ${typeName(obj)} (only a dict's attributes are accepted)`);
        (obj as PyDict).attributes = state;
        break;
      }
      case 0x51: { // BINPERSID
        const pid = pop();
        if (!host.persistentLoad) fail('persistent ids are not allowed here');
        let out: PyValue;
        try {
          out = host.persistentLoad!(pid);
        } catch (e) {
          if (e instanceof WasmzooError) fail(e.message);
          throw e;
        }
        push(out!);
        break;
      }
      case 0x30: // POP: the top item, or (as Python) the last MARK when nothing was pushed since it
        if (marks.length && stack.length === marks[marks.length - 1]) marks.pop();
        else pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        push(top());
        break;
      case 0x2e: { // STOP
        if (marks.length) fail(`${marks.length} MARK(s) left open`);
        if (stack.length !== 1) fail(`${stack.length} values on the stack (expected exactly 1)`);
        return { value: stack[0]!, end: pos };
      }
      default:
        fail(REFUSED_OPCODES.has(op) ? 'this opcode is not allowed (torch.save never writes it)' : 'unknown opcode');
    }
  }
}

/** A number when the integer is safe, else the bigint. */
function smallInt(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

/** Python's name for a value's type, for messages (shallow: never walks containers). */
export function typeName(v: PyValue): string {
  if (v === null) return 'None';
  switch (typeof v) {
    case 'boolean': return 'bool';
    case 'number': case 'bigint': return 'int';
    case 'string': return 'str';
  }
  if (v instanceof Uint8Array) return 'bytes';
  if (v instanceof PyFloat) return 'float';
  if (v instanceof PyTuple) return 'tuple';
  if (v instanceof PyList) return 'list';
  if (v instanceof PyDict) return 'dict';
  if (v instanceof PyGlobal) return v.qualifiedName;
  return (v as HostValue).pyType ?? 'object';
}

/** Opcode names by byte, for messages; after the '|' the ones refused on purpose (torch.save never writes them). */
const OPCODES =
  '80PROTO 95FRAME 7dEMPTY_DICT 5dEMPTY_LIST 29EMPTY_TUPLE 85TUPLE1 86TUPLE2 87TUPLE3 28MARK 74TUPLE 6cLIST 64DICT 73SETITEM ' +
  '75SETITEMS 61APPEND 65APPENDS 4aBININT 4bBININT1 4dBININT2 8aLONG1 8bLONG4 47BINFLOAT 58BINUNICODE 8cSHORT_BINUNICODE ' +
  '8dBINUNICODE8 43SHORT_BINBYTES 42BINBYTES 8eBINBYTES8 88NEWTRUE 89NEWFALSE 4eNONE 71BINPUT 72LONG_BINPUT 94MEMOIZE 68BINGET ' +
  '6aLONG_BINGET 63GLOBAL 93STACK_GLOBAL 52REDUCE 62BUILD 51BINPERSID 30POP 31POP_MARK 32DUP 2eSTOP | 81NEWOBJ 92NEWOBJ_EX 69INST ' +
  '6fOBJ 82EXT1 83EXT2 84EXT4 50PERSID 49INT 4cLONG 46FLOAT 53STRING 56UNICODE 70PUT 67GET 54BINSTRING 55SHORT_BINSTRING ' +
  '8fEMPTY_SET 90ADDITEMS 91FROZENSET 96BYTEARRAY8 97NEXT_BUFFER 98READONLY_BUFFER';
const OPCODE_NAMES = new Map<number, string>();
const REFUSED_OPCODES = new Set<number>();
OPCODES.split(' | ').forEach((group, refused) => {
  for (const w of group.split(' ')) {
    const code = parseInt(w.slice(0, 2), 16);
    OPCODE_NAMES.set(code, w.slice(2));
    if (refused) REFUSED_OPCODES.add(code);
  }
});
