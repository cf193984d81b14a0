/**
 * A character tokenizer for the sequence models (src/models/seq2seq.ts): one id per Unicode code point of a
 * fixed alphabet, after four special ids shared with the models:
 *   PAD = 0 (padding; also nn.Embedding's paddingIdx), BOS = 1 (start of the decoder input),
 *   EOS = 2 (end of sequence), UNK = 3 (a character outside the alphabet).
 * So the vocabulary size is 4 + alphabet length, and the alphabet fully defines the mapping: store it with
 * the model's weights (`toJSON()` / `CharTokenizer.fromJSON`).
 */
import { WasmzooError } from '../errors.js';
import { checkOptions, optionKeys } from '../options.js';
import { Tensor } from '../tensor.js';

export const PAD = 0;
export const BOS = 1;
export const EOS = 2;
export const UNK = 3;
export const SPECIAL_TOKENS = 4;

export interface EncodeOptions {
  /** Prepend BOS (default false). */
  bos?: boolean;
  /** Append EOS (default false). */
  eos?: boolean;
}

export interface DecodeOptions {
  /** Stop at the first EOS (default true); otherwise EOS is skipped like PAD and BOS. */
  stopAtEos?: boolean;
  /** Text for UNK ids (default U+FFFD). */
  unknown?: string;
}

const ENCODE_OPTION_KEYS = optionKeys<EncodeOptions>({ bos: 1, eos: 1 });
const DECODE_OPTION_KEYS = optionKeys<DecodeOptions>({ stopAtEos: 1, unknown: 1 });

export class CharTokenizer {
  /** The alphabet: character of id SPECIAL_TOKENS + i is chars[i]. */
  readonly chars: readonly string[];
  private readonly ids: Map<string, number>;

  /** `alphabet`: the characters in id order (a string, split by code point, or an array of single characters). */
  constructor(alphabet: string | readonly string[]) {
    const chars = typeof alphabet === 'string' ? Array.from(alphabet) : [...alphabet];
    const ids = new Map<string, number>();
    chars.forEach((c, i) => {
      if (typeof c !== 'string' || Array.from(c).length !== 1) throw new WasmzooError('E_ARGUMENT', `CharTokenizer: alphabet entry ${i} must be one character, got ${JSON.stringify(c)}`);
      if (ids.has(c)) throw new WasmzooError('E_ARGUMENT', `CharTokenizer: character ${JSON.stringify(c)} appears twice in the alphabet (entries ${ids.get(c)! - SPECIAL_TOKENS} and ${i})`);
      ids.set(c, SPECIAL_TOKENS + i);
    });
    this.chars = Object.freeze(chars);
    this.ids = ids;
  }

  /** The sorted set of characters of some texts as an alphabet. */
  static fromTexts(texts: Iterable<string>): CharTokenizer {
    const set = new Set<string>();
    for (const t of texts) for (const c of t) set.add(c);
    return new CharTokenizer([...set].sort());
  }

  static fromJSON(obj: { chars: string }): CharTokenizer {
    if (!obj || typeof obj.chars !== 'string') throw new WasmzooError('E_ARGUMENT', 'CharTokenizer.fromJSON: expected { chars: string }');
    return new CharTokenizer(obj.chars);
  }

  toJSON(): { chars: string } {
    return { chars: this.chars.join('') };
  }

  /** 4 special ids + the alphabet. */
  get vocabSize(): number {
    return SPECIAL_TOKENS + this.chars.length;
  }

  /** Text -> ids (UNK for characters outside the alphabet). */
  encode(text: string, opts: EncodeOptions = {}): number[] {
    if (typeof text !== 'string') throw new WasmzooError('E_ARGUMENT', `CharTokenizer.encode: expected a string, got ${typeof text}`);
    opts = checkOptions('CharTokenizer.encode', opts, ENCODE_OPTION_KEYS);
    const out: number[] = opts.bos ? [BOS] : [];
    for (const c of text) out.push(this.ids.get(c) ?? UNK);
    if (opts.eos) out.push(EOS);
    return out;
  }

  /** Several texts, padded with PAD at the end to the longest (for a batch). */
  encodeBatch(texts: readonly string[], opts: EncodeOptions = {}): number[][] {
    if (!Array.isArray(texts)) throw new WasmzooError('E_ARGUMENT', `CharTokenizer.encodeBatch: expected an array of strings, got ${typeof texts}`);
    const rows = texts.map((t) => this.encode(t, opts));
    const n = Math.max(0, ...rows.map((r) => r.length));
    return rows.map((r) => r.concat(new Array(n - r.length).fill(PAD)));
  }

  /**
   * Ids (an array, a typed array or a 1-D Tensor) -> text: PAD and BOS are skipped, EOS ends the text (unless
   * stopAtEos is false), UNK becomes `unknown`.
   */
  decode(ids: Iterable<number> | Tensor, opts: DecodeOptions = {}): string {
    opts = checkOptions('CharTokenizer.decode', opts, DECODE_OPTION_KEYS);
    if (ids instanceof Tensor) {
      if (ids.shape.length !== 1) throw new WasmzooError('E_SHAPE', `CharTokenizer.decode: expected ids [S], got a Tensor of shape [${ids.shape.join(', ')}] (decode each row)`);
      ids = ids.data;
    }
    if (ids === null || typeof (ids as Partial<Iterable<number>>)?.[Symbol.iterator] !== 'function') {
      throw new WasmzooError('E_ARGUMENT', `CharTokenizer.decode: expected ids (an array, typed array or 1-D Tensor), got ${ids === null ? 'null' : typeof ids}`);
    }
    const stop = opts.stopAtEos ?? true;
    const unknown = opts.unknown ?? '\uFFFD';
    let s = '';
    for (const id of ids) {
      if (id === EOS && stop) break;
      if (id === PAD || id === BOS || id === EOS) continue;
      if (id === UNK) { s += unknown; continue; }
      const c = Number.isInteger(id) ? this.chars[id - SPECIAL_TOKENS] : undefined;
      if (c === undefined) throw new WasmzooError('E_ARGUMENT', `CharTokenizer.decode: id ${id} is outside the vocabulary [0, ${this.vocabSize})`);
      s += c;
    }
    return s;
  }
}
