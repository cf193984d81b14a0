// @rollup/plugin-wasm (inline): the default export compiles the embedded bytes; with no imports it
// resolves to a WebAssembly.Module.
declare module '*.wasm' {
  const load: (imports?: WebAssembly.Imports) => Promise<WebAssembly.Module | WebAssembly.WebAssemblyInstantiatedSource>;
  export default load;
}
