// tools/inline-binary.mjs (rollup and vitest): a binary file imports as its bytes in base64.
declare module '*.wasm' {
  const base64: string;
  export default base64;
}
declare module '*.zlib' {
  const base64: string;
  export default base64;
}
