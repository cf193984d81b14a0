// Rollup output plugin, after the minifier: cut every line longer than `limit` characters at a comma between
// two elements, properties, arguments, declarators or export specifiers. terser's own max_line_len breaks
// only between statements, and left the 1000 ImageNet labels (12.6 K characters), the kernel name list and
// the export list each on one line; Node prints the whole source line of an uncaught error (issue 12).
// A newline after such a comma never changes what the code means (no automatic semicolon can go there).
// A long string literal with newlines in it (terser folds the worker's source, a template literal, into one)
// is written back as a template literal, its newlines real ones.
// The source map follows the inserted newlines (magic-string), chained by rollup onto the minifier's.
import MagicString from 'magic-string';
import { parseAst } from 'rollup/parseAst';

const LISTS = {
  ArrayExpression: 'elements', ObjectExpression: 'properties', CallExpression: 'arguments', NewExpression: 'arguments',
  VariableDeclaration: 'declarations', SequenceExpression: 'expressions', ExportNamedDeclaration: 'specifiers',
  ImportDeclaration: 'specifiers',
};

/** Positions just after each separating comma of the lists above, in source order. */
function breakPoints(code, ast) {
  const out = [];
  const visit = (node) => {
    if (!node || typeof node !== 'object') return;
    if (Array.isArray(node)) return node.forEach(visit);
    const list = LISTS[node.type] && node[LISTS[node.type]];
    if (list) {
      for (let k = 0; k + 1 < list.length; k++) {
        if (!list[k]) continue; // array hole
        let p = list[k].end;
        while (p < code.length && code[p] !== ',') p++;
        if (p < code.length) out.push(p + 1);
      }
    }
    for (const key in node) if (key !== 'start' && key !== 'end' && typeof node[key] === 'object') visit(node[key]);
  };
  visit(ast);
  return out.sort((a, b) => a - b);
}

/** `value` as a template literal without substitutions: the same string, newlines kept as newlines. */
function asTemplate(value) {
  const body = value.replace(/[\\`\r\0-\x09\x0b-\x1f]|\$\{/g, (c) =>
    c === '\\' ? '\\\\' : c === '`' ? '\\`' : c === '${' ? '\\${' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return `\`${body}\``;
}

/** String literals longer than `limit` that hold newlines. */
function longStrings(ast, limit) {
  const out = [];
  const visit = (node) => {
    if (!node || typeof node !== 'object') return;
    if (Array.isArray(node)) return node.forEach(visit);
    if (node.type === 'Literal' && typeof node.value === 'string' && node.end - node.start > limit && node.value.includes('\n')) out.push(node);
    for (const key in node) if (key !== 'start' && key !== 'end' && typeof node[key] === 'object') visit(node[key]);
  };
  visit(ast);
  return out;
}

export function lineLimit(limit) {
  return {
    name: 'wasmzoo-line-limit',
    renderChunk(code) {
      const ast = parseAst(code);
      const points = breakPoints(code, ast);
      const s = new MagicString(code);
      let n = 0;
      for (const lit of longStrings(ast, limit)) s.overwrite(lit.start, lit.end, asTemplate(lit.value)), n++;
      let lineStart = 0, last = -1, p = 0;
      for (const c of points) {
        // newlines already in the code start new lines
        for (let nl = code.indexOf('\n', p); nl >= 0 && nl < c; nl = code.indexOf('\n', nl + 1)) lineStart = nl + 1, last = -1;
        p = c;
        if (c - lineStart > limit) {
          const at = last > lineStart ? last : c;
          s.appendLeft(at, '\n');
          n++;
          lineStart = at;
          if (at !== c && c - lineStart > limit) s.appendLeft(c, '\n'), n++, lineStart = c;
        }
        last = c;
      }
      return n ? { code: s.toString(), map: s.generateMap({ hires: true }) } : null;
    },
  };
}
