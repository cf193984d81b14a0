// The two image decoders the CLI uses ship no types: the parts used here (and by test/cli to write inputs).
declare module 'pngjs' {
  interface Decoded { width: number; height: number; data: Uint8Array }
  export class PNG {
    constructor(opts: { width: number; height: number });
    width: number;
    height: number;
    data: Uint8Array;
    static sync: { read(buf: Uint8Array, opts?: object): Decoded; write(png: PNG): Uint8Array };
  }
}
declare module 'jpeg-js' {
  interface Decoded { width: number; height: number; data: Uint8Array }
  export function decode(buf: Uint8Array, opts: { useTArray: true; formatAsRGBA?: boolean; maxResolutionInMP?: number; maxMemoryUsageInMB?: number }): Decoded;
  export function encode(img: Decoded, quality?: number): { data: Uint8Array; width: number; height: number };
  const jpeg: { decode: typeof decode; encode: typeof encode };
  export default jpeg;
}
