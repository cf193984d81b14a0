// Rollup plugin: every class keeps its source name in every build, minified or not (issue 12). Layers name
// themselves in error messages from `constructor.name` (`LSTM: expected input ...`), Node's console.log prints
// it (`LSTM {`), and optimizer state saves it; a minifier renames classes (`Sg: expected input ...`, `uA {`)
// and rollup renames clashing ones (`Linear$1`).
//
// Before the minifier (renderChunk of an input plugin runs before the output plugins' renderChunk), each
// top-level class declaration of the rendered chunk gets `Object.defineProperty(C, "name", { value: "C" })`
// appended at the end of its own last line. Nothing that has a source mapping moves, so the chunk's source
// map stays valid (map: null). Only classes rollup kept are named, so tree-shaking is unchanged, and it costs
// far less than esbuild's keepNames, which names every function too (~4 KB gzip on this bundle).
//
// The name is the identifier rollup rendered, without the `$N` suffix it adds to resolve clashes.

/** Class declarations at the top level of a program (and inside an IIFE or CommonJS wrapper function). */
function classDeclarations(ast) {
  const out = [];
  const visit = (body) => {
    for (const node of body) {
      if (node.type === 'ClassDeclaration') out.push(node);
      else if ((node.type === 'ExportNamedDeclaration' || node.type === 'ExportDefaultDeclaration') && node.declaration?.type === 'ClassDeclaration') {
        out.push(node.declaration);
      } else if (node.type === 'VariableDeclaration' || node.type === 'ExpressionStatement') {
        // `var wasmzoo = (function (exports) { ... })({})`: the IIFE format's wrapper
        const fn = wrapperFunction(node);
        if (fn) visit(fn.body.body);
      }
    }
  };
  visit(ast.body);
  return out;
}

function wrapperFunction(node) {
  const expr = node.type === 'VariableDeclaration' ? node.declarations[0]?.init : node.expression;
  const call = expr?.type === 'CallExpression' ? expr : undefined;
  const callee = call?.callee;
  return callee?.type === 'FunctionExpression' || callee?.type === 'ArrowFunctionExpression' ? callee : undefined;
}

export function classNames() {
  return {
    name: 'wasmzoo-class-names',
    renderChunk(code) {
      const classes = classDeclarations(this.parse(code)).filter((c) => c.id);
      let out = '';
      let from = 0;
      for (const c of classes) {
        // the end of the line holding the class's closing brace: appending there moves nothing mapped
        let eol = code.indexOf('\n', c.end);
        if (eol < 0) eol = code.length;
        if (code.slice(c.end, eol).trim() !== '') this.error(`class ${c.id.name}: code follows its closing brace on the same line`);
        const id = c.id.name;
        out += code.slice(from, eol) + ` Object.defineProperty(${id}, "name", { value: ${JSON.stringify(id.replace(/\$\d+$/, ''))} });`;
        from = eol;
      }
      return classes.length ? { code: out + code.slice(from), map: null } : null;
    },
  };
}
