// A synthetic translation task for the encoder-decoder: dates written in words -> ISO dates.
//   "march fifth nineteen ninety" -> "1990-03-05",  "the 21st of june 2004" -> "2004-06-21"
// Seeded (mulberry32) so train and held-out splits are reproducible; the held-out split excludes every
// sentence of the train split (the same date may appear in another wording).
//   node examples/dates.mjs [n] [seed]     prints n sentences with their targets
export const MONTHS = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];
const ONES = ['', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'eleven', 'twelve', 'thirteen', 'fourteen',
  'fifteen', 'sixteen', 'seventeen', 'eighteen', 'nineteen'];
const TENS = ['', '', 'twenty', 'thirty', 'forty', 'fifty', 'sixty', 'seventy', 'eighty', 'ninety'];
const ORD_ONES = ['', 'first', 'second', 'third', 'fourth', 'fifth', 'sixth', 'seventh', 'eighth', 'ninth', 'tenth', 'eleventh', 'twelfth',
  'thirteenth', 'fourteenth', 'fifteenth', 'sixteenth', 'seventeenth', 'eighteenth', 'nineteenth'];
const ORD_TENS = { 20: 'twentieth', 30: 'thirtieth' };

export function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** 1..99 in words ("forty-two"). */
function number(n) {
  if (n < 20) return ONES[n];
  return TENS[Math.floor(n / 10)] + (n % 10 ? `-${ONES[n % 10]}` : '');
}

/** 1..31 as an ordinal in words ("twenty-first"). */
function ordinal(n) {
  if (n < 20) return ORD_ONES[n];
  if (n % 10 === 0) return ORD_TENS[n];
  return `${TENS[Math.floor(n / 10)]}-${ORD_ONES[n % 10]}`;
}

/** 1..31 as a digit ordinal ("21st"). */
function ordinalDigits(n) {
  const s = n % 100 >= 11 && n % 100 <= 13 ? 'th' : ['th', 'st', 'nd', 'rd'][n % 10] ?? 'th';
  return `${n}${s}`;
}

/** A year 1900..2099 as spoken: "nineteen oh five", "nineteen hundred", "two thousand", "two thousand seven", "twenty twelve". */
function yearWords(y) {
  const hi = Math.floor(y / 100), lo = y % 100;
  if (hi === 20 && lo < 10) return lo === 0 ? 'two thousand' : `two thousand ${ONES[lo]}`;
  const head = number(hi);
  if (lo === 0) return `${head} hundred`;
  if (lo < 10) return `${head} oh ${ONES[lo]}`;
  return `${head} ${number(lo)}`;
}

const daysIn = (y, m) => new Date(Date.UTC(y, m + 1, 0)).getUTCDate();

/** One random (sentence, iso) pair. */
export function randomDate(rand) {
  const y = 1900 + Math.floor(rand() * 200);
  const m = Math.floor(rand() * 12);
  const d = 1 + Math.floor(rand() * daysIn(y, m));
  const month = MONTHS[m];
  const year = rand() < 0.75 ? yearWords(y) : String(y);
  const day = rand() < 0.75 ? ordinal(d) : ordinalDigits(d);
  const forms = [`${month} ${day} ${year}`, `the ${day} of ${month} ${year}`, `${day} ${month} ${year}`, `${month} the ${day} ${year}`];
  const text = forms[Math.floor(rand() * forms.length)];
  const iso = `${y}-${String(m + 1).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
  return { text, iso };
}

/** Disjoint train and held-out splits of distinct sentences. */
export function splits({ train = 20000, test = 1000, seed = 1 } = {}) {
  const rand = mulberry32(seed);
  const seen = new Set();
  const take = (n) => {
    const out = [];
    while (out.length < n) {
      const p = randomDate(rand);
      if (seen.has(p.text)) continue;
      seen.add(p.text);
      out.push(p);
    }
    return out;
  };
  return { train: take(train), test: take(test) };
}

/** Every character the generator can emit: the source and target alphabets. */
export const SOURCE_ALPHABET = ' -0123456789abcdefghijklmnopqrstuvwxyz';
export const TARGET_ALPHABET = '-0123456789';

if (import.meta.url === `file://${process.argv[1]}`) {
  const rand = mulberry32(Number(process.argv[3] ?? 1));
  for (let i = 0; i < Number(process.argv[2] ?? 10); i++) {
    const { text, iso } = randomDate(rand);
    console.log(`${text.padEnd(60)} ${iso}`);
  }
}
