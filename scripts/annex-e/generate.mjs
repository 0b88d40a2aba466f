#!/usr/bin/env node
// Generates src/ingest/annex-e/table-e1-1.generated.ts from the checked-in copy of DICOM PS3.15
// Annex E, Table E.1-1 ("Application Level Confidentiality Profile Attributes") and Table E.1-1a
// ("De-identification Action Codes") under scripts/annex-e/source/ (see the README.md there).
//
//   node scripts/annex-e/generate.mjs           write the generated file
//   node scripts/annex-e/generate.mjs --check   exit 1 if the generated file is missing or stale
//
// Node standard library only. The output is deterministic (no dates, no environment) and already in
// the repository's Prettier style, so `npx prettier --check` passes on it without a rewrite.
// Anything in the source the script does not understand (an unknown element in a cell, an action
// code Table E.1-1a does not define, a tag it cannot read, a changed header) stops it with an error:
// the table is normative, so a new edition's surprise must be looked at, not guessed around.

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..');
const SOURCE_DIR = join(HERE, 'source');
const OUT_FILE = join(ROOT, 'src', 'ingest', 'annex-e', 'table-e1-1.generated.ts');
const SCRIPT = relative(ROOT, fileURLToPath(import.meta.url))
  .split('\\')
  .join('/');

/** Table E.1-1 columns, in order: the header text the table prints, and the field it becomes. */
const COLUMNS = [
  { header: 'Attribute Name', field: 'name' },
  { header: 'Tag', field: 'tag' },
  { header: 'Retd. (from PS3.6)', field: 'retired' },
  { header: 'In Std. Comp. IOD (from PS3.3)', field: 'inStdCompIod' },
  { header: 'Basic Prof.', field: 'basic' },
  { header: 'Rtn. Safe Priv. Opt.', field: 'retainSafePrivate', option: 'Retain Safe Private Option' },
  { header: 'Rtn. UIDs Opt.', field: 'retainUids', option: 'Retain UIDs Option' },
  { header: 'Rtn. Dev. Id. Opt.', field: 'retainDeviceIdentity', option: 'Retain Device Identity Option' },
  { header: 'Rtn. Inst. Id. Opt.', field: 'retainInstitutionIdentity', option: 'Retain Institution Identity Option' },
  { header: 'Rtn. Pat. Chars. Opt.', field: 'retainPatientCharacteristics', option: 'Retain Patient Characteristics Option' },
  {
    header: 'Rtn. Long. Full Dates Opt.',
    field: 'retainLongFullDates',
    option: 'Retain Longitudinal Temporal Information with Full Dates Option',
  },
  {
    header: 'Rtn. Long. Modif. Dates Opt.',
    field: 'retainLongModifiedDates',
    option: 'Retain Longitudinal Temporal Information with Modified Dates Option',
  },
  { header: 'Clean Desc. Opt.', field: 'cleanDescriptors', option: 'Clean Descriptors Option' },
  { header: 'Clean Struct. Cont. Opt.', field: 'cleanStructuredContent', option: 'Clean Structured Content Option' },
  { header: 'Clean Graph. Opt.', field: 'cleanGraphics', option: 'Clean Graphics Option' },
];
const OPTION_COLUMNS = COLUMNS.filter((c) => c.option);

const PRIVATE_TAG_TEXT = '(gggg,eeee) where gggg is odd';
const PRIVATE_TAG = 'ggggeeee';

function fail(message) {
  process.stderr.write(`annex-e/generate: ${message}\n`);
  process.exit(1);
}

// ---------------------------------------------------------------------------------------------
// A small, strict XML reader: enough for DocBook table fragments (elements, attributes, text, the
// five predefined entities and character references). Comments and processing instructions are
// skipped; DOCTYPE and CDATA are refused.

/** `where` names the place for an error message; a function, so it is worked out only on failure. */
function decodeEntities(text, where) {
  return text.replace(/&([^;&\s]*);?/g, (match, ref) => {
    if (!match.endsWith(';')) fail(`bare '&' in text near ${where()}`);
    const named = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }[ref];
    if (named !== undefined) return named;
    const numeric = /^#(?:x([0-9A-Fa-f]+)|([0-9]+))$/.exec(ref);
    if (numeric) return String.fromCodePoint(numeric[1] !== undefined ? parseInt(numeric[1], 16) : parseInt(numeric[2], 10));
    return fail(`unknown entity '&${ref};' near ${where()}`);
  });
}

function tagEnd(text, from) {
  let quote = null;
  for (let i = from; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === quote) quote = null;
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === '>') {
      return i;
    }
  }
  return fail(`unterminated tag at offset ${from}`);
}

function parseXml(text, file) {
  const root = { name: '#document', attrs: {}, children: [] };
  const stack = [root];
  const lineAt = (offset) => `${file}:${text.slice(0, offset).split('\n').length}`;
  let i = 0;
  while (i < text.length) {
    const lt = text.indexOf('<', i);
    const stop = lt === -1 ? text.length : lt;
    if (stop > i) stack[stack.length - 1].children.push(decodeEntities(text.slice(i, stop), () => lineAt(i)));
    if (lt === -1) break;
    if (text.startsWith('<!--', lt)) {
      const close = text.indexOf('-->', lt + 4);
      if (close === -1) fail(`unterminated comment at ${lineAt(lt)}`);
      i = close + 3;
      continue;
    }
    if (text.startsWith('<?', lt)) {
      const close = text.indexOf('?>', lt + 2);
      if (close === -1) fail(`unterminated processing instruction at ${lineAt(lt)}`);
      i = close + 2;
      continue;
    }
    if (text.startsWith('<!', lt)) fail(`unsupported markup (DOCTYPE or CDATA) at ${lineAt(lt)}`);
    const gt = tagEnd(text, lt + 1);
    const raw = text.slice(lt + 1, gt);
    if (raw.startsWith('/')) {
      const name = raw.slice(1).trim();
      const open = stack.pop();
      if (stack.length === 0 || open.name !== name) fail(`</${name}> does not close <${open.name}> at ${lineAt(lt)}`);
    } else {
      const selfClosing = raw.endsWith('/');
      const body = selfClosing ? raw.slice(0, -1) : raw;
      const nameMatch = /^([A-Za-z_][\w.:-]*)/.exec(body);
      if (!nameMatch) fail(`malformed tag at ${lineAt(lt)}`);
      const attrs = {};
      const rest = body.slice(nameMatch[1].length).replace(/([^\s=]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g, (_m, key, dq, sq) => {
        attrs[key] = decodeEntities(dq ?? sq, () => lineAt(lt));
        return '';
      });
      if (rest.trim() !== '') fail(`malformed attributes in <${nameMatch[1]}> at ${lineAt(lt)}`);
      const node = {
        name: nameMatch[1],
        attrs,
        children: [],
        get line() {
          return lineAt(lt);
        },
      };
      stack[stack.length - 1].children.push(node);
      if (!selfClosing) stack.push(node);
    }
    i = gt + 1;
  }
  if (stack.length !== 1) fail(`<${stack[stack.length - 1].name}> is never closed in ${file}`);
  return root;
}

const elements = (node, name) => node.children.filter((c) => typeof c !== 'string' && (name === undefined || c.name === name));

function only(node, name) {
  const found = elements(node, name);
  if (found.length !== 1) fail(`expected exactly one <${name}> in <${node.name}> at ${node.line ?? 'document'}`);
  return found[0];
}

// ---------------------------------------------------------------------------------------------
// Cell text: the text of a table cell as the rendered standard reads it.

/** Zero-width characters the DocBook source carries inside some names (the GPS rows). */
const ZERO_WIDTH = /[\u200B\u200C\u200D\u2060\uFEFF]/g;
/** A superscript or trailing marker that only points at a footnote. */
const FOOTNOTE_MARKER = /^[\s\d*\u2020\u2021\u00A7\u00B9\u00B2\u00B3\u2070-\u2079,]+$/;

function cellText(cell, context) {
  const footnotes = [];
  const walk = (node) => {
    let out = '';
    for (const child of node.children) {
      if (typeof child === 'string') {
        out += child;
        continue;
      }
      switch (child.name) {
        case 'para':
        case 'emphasis':
        case 'phrase':
        case 'literal':
        case 'subscript':
          out += ` ${walk(child)} `;
          break;
        case 'olink':
          if (!context.header) fail(`cross-reference <olink> inside a body cell at ${child.line}`);
          out += child.attrs.targetdoc ?? '';
          break;
        case 'footnote':
        case 'footnoteref':
          footnotes.push(child.line);
          break;
        case 'superscript': {
          const text = walk(child);
          if (!FOOTNOTE_MARKER.test(text)) fail(`superscript '${text.trim()}' that is not a footnote marker at ${child.line}`);
          footnotes.push(child.line);
          break;
        }
        default:
          fail(`unexpected <${child.name}> inside a table cell at ${child.line}`);
      }
    }
    return out;
  };
  const text = walk(cell).replace(ZERO_WIDTH, '').replace(/\s+/g, ' ').trim();
  return { text, footnotes };
}

// ---------------------------------------------------------------------------------------------

function readSource() {
  const manifestPath = join(SOURCE_DIR, 'source.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
  const fragments = {};
  for (const fragment of manifest.fragments) {
    const bytes = readFileSync(join(SOURCE_DIR, fragment.file));
    const digest = createHash('sha256').update(bytes).digest('hex');
    if (digest !== fragment.sha256) fail(`${fragment.file}: sha256 ${digest} does not match source.json (${fragment.sha256})`);
    const doc = parseXml(bytes.toString('utf8'), fragment.file);
    const table = only(doc, 'table');
    if (table.attrs['xml:id'] !== fragment.tableId)
      fail(`${fragment.file}: expected table ${fragment.tableId}, found ${table.attrs['xml:id']}`);
    const caption = cellText(only(table, 'caption'), { header: true }).text;
    if (caption !== fragment.caption) fail(`${fragment.file}: caption '${caption}' is not '${fragment.caption}'`);
    fragments[fragment.tableId] = { ...fragment, table };
  }
  if (!fragments['table_E.1-1'] || !fragments['table_E.1-1a']) fail('source.json must list table_E.1-1 and table_E.1-1a');
  return { manifest, e11: fragments['table_E.1-1'], e11a: fragments['table_E.1-1a'] };
}

function rowCells(tr, width, context) {
  const cells = elements(tr);
  for (const cell of cells) {
    if (cell.name !== 'td' && cell.name !== 'th') fail(`unexpected <${cell.name}> in a table row at ${cell.line}`);
    for (const span of ['colspan', 'rowspan']) {
      if ((cell.attrs[span] ?? '1') !== '1') fail(`${span}="${cell.attrs[span]}" at ${cell.line}: spanning cells are not supported`);
    }
  }
  if (cells.length !== width) fail(`row at ${tr.line} has ${cells.length} cells, expected ${width}`);
  return cells.map((cell) => cellText(cell, context));
}

const ACTION_CODE_SHAPE = /^[DZXKCU](?:\/[DZXKCU])*\*?$/;

function parseActionCodes(e11a) {
  const codes = [];
  for (const tr of elements(only(e11a.table, 'tbody'), 'tr')) {
    const [code, meaning] = rowCells(tr, 2, { header: false });
    if (code.footnotes.length || meaning.footnotes.length) fail(`footnote in Table E.1-1a at ${tr.line}`);
    if (!ACTION_CODE_SHAPE.test(code.text)) fail(`Table E.1-1a defines an action code of unexpected form '${code.text}' at ${tr.line}`);
    if (codes.some((c) => c.code === code.text)) fail(`Table E.1-1a defines '${code.text}' twice`);
    if (meaning.text === '') fail(`Table E.1-1a gives no meaning for '${code.text}'`);
    codes.push({ code: code.text, meaning: meaning.text });
  }
  if (codes.length === 0) fail('Table E.1-1a has no rows');
  return codes;
}

function parseTag(text, line) {
  if (text === PRIVATE_TAG_TEXT) return { tag: PRIVATE_TAG, tagKind: 'private' };
  const m = /^\(([0-9A-Fa-fxX]{4}),([0-9A-Fa-fxX]{4})\)$/.exec(text);
  if (!m) return fail(`unreadable tag '${text}' at ${line}`);
  const tag = (m[1] + m[2]).replace(/[0-9A-Fa-fxX]/g, (c) => (c === 'x' || c === 'X' ? 'x' : c.toUpperCase()));
  return { tag, tagKind: tag.includes('x') ? 'mask' : 'exact' };
}

function parseYesNo(text, column, line) {
  if (text === 'Y') return true;
  if (text === 'N') return false;
  return fail(`${column} is '${text}', expected Y or N, at ${line}`);
}

function parseRows(e11, codes) {
  const known = new Set(codes.map((c) => c.code));
  const header = elements(only(only(e11.table, 'thead'), 'tr'), 'th').length;
  if (header !== COLUMNS.length) fail(`Table E.1-1 header has ${header} columns, expected ${COLUMNS.length}`);
  const headerCells = rowCells(only(only(e11.table, 'thead'), 'tr'), COLUMNS.length, { header: true });
  headerCells.forEach((cell, i) => {
    if (cell.text !== COLUMNS[i].header) fail(`Table E.1-1 column ${i + 1} is '${cell.text}', expected '${COLUMNS[i].header}'`);
  });

  const rows = [];
  const footnotes = [];
  for (const tr of elements(only(e11.table, 'tbody'), 'tr')) {
    const cells = rowCells(tr, COLUMNS.length, { header: false });
    const byField = Object.fromEntries(COLUMNS.map((c, i) => [c.field, cells[i]]));
    for (const [field, cell] of Object.entries(byField)) {
      for (const at of cell.footnotes) footnotes.push({ row: byField.name.text, field, at });
    }
    // A name cell may carry a second paragraph pointing at the notes under PS3.15 E.1.1, e.g.
    // 'Icon Image Sequence' + '(see Note 11)': the pointer is kept apart from the name.
    const noteMatch = /^(.*?)\s*\(see (Notes? [\d, and]+?)\)$/.exec(byField.name.text);
    const name = noteMatch ? noteMatch[1] : byField.name.text;
    if (name === '') fail(`row without an attribute name at ${tr.line}`);
    const action = (field) => {
      const code = byField[field].text.replace(/[\s\u2020\u2021\u00A7\u00B9\u00B2\u00B3\u2070-\u2079]+$/, '');
      if (code === '') return undefined;
      if (!known.has(code)) fail(`'${name}' ${field} is '${byField[field].text}', not an action code of Table E.1-1a, at ${tr.line}`);
      return code;
    };
    const basic = action('basic');
    if (basic === undefined) fail(`'${name}' has no Basic Profile action at ${tr.line}`);
    const options = {};
    for (const column of OPTION_COLUMNS) {
      const code = action(column.field);
      if (code !== undefined) options[column.field] = code;
    }
    rows.push({
      name,
      ...(noteMatch ? { seeNote: noteMatch[2] } : {}),
      ...parseTag(byField.tag.text, tr.line),
      tagText: byField.tag.text,
      retired: parseYesNo(byField.retired.text, 'Retd.', tr.line),
      inStdCompIod: parseYesNo(byField.inStdCompIod.text, 'In Std. Comp. IOD', tr.line),
      basic,
      options,
    });
  }
  if (rows.length === 0) fail('Table E.1-1 has no rows');
  return { rows, footnotes };
}

// Plain code-unit order: the same on every machine and locale (unlike localeCompare).
const compare = (a, b) => (a < b ? -1 : a > b ? 1 : 0);
const byTagThenName = (a, b) => compare(a.tag, b.tag) || compare(a.name, b.name) || compare(JSON.stringify(a), JSON.stringify(b));

// ---------------------------------------------------------------------------------------------
// Emitting TypeScript in Prettier's style (printWidth 140, single quotes, trailing commas).

const PRINT_WIDTH = 140;

function str(value) {
  const singles = (value.match(/'/g) ?? []).length;
  const doubles = (value.match(/"/g) ?? []).length;
  const quote = singles > doubles ? '"' : "'";
  const escaped = value
    .replace(/\\/g, '\\\\')
    .replace(new RegExp(quote, 'g'), `\\${quote}`)
    .replace(/\n/g, '\\n')
    .replace(/\r/g, '\\r')
    .replace(/\t/g, '\\t');
  return quote + escaped + quote;
}

function emitOptions(options, indent) {
  const entries = OPTION_COLUMNS.filter((c) => options[c.field] !== undefined).map((c) => `${c.field}: ${str(options[c.field])}`);
  if (entries.length === 0) return [`${indent}options: {},`];
  const flat = `${indent}options: { ${entries.join(', ')} },`;
  if (flat.length <= PRINT_WIDTH) return [flat];
  return [`${indent}options: {`, ...entries.map((e) => `${indent}  ${e},`), `${indent}},`];
}

function emitRow(row) {
  const i = '    ';
  return [
    '  {',
    `${i}name: ${str(row.name)},`,
    ...(row.seeNote === undefined ? [] : [`${i}seeNote: ${str(row.seeNote)},`]),
    `${i}tag: ${str(row.tag)},`,
    `${i}tagKind: ${str(row.tagKind)},`,
    `${i}tagText: ${str(row.tagText)},`,
    `${i}retired: ${row.retired},`,
    `${i}inStdCompIod: ${row.inStdCompIod},`,
    `${i}basic: ${str(row.basic)},`,
    ...emitOptions(row.options, i),
    '  },',
  ];
}

function render({ manifest, e11, e11a }, codes, rows) {
  const edition = manifest.edition;
  const out = [];
  out.push(
    '// GENERATED FILE: DO NOT EDIT. Regenerate with `node scripts/annex-e/generate.mjs`.',
    '//',
    `// Generated by ${SCRIPT} from DICOM PS3.15 ${edition}, Annex E:`,
    `//   Table E.1-1  "${e11.caption}" (${e11.file}, sha256 ${e11.sha256})`,
    `//   Table E.1-1a "${e11a.caption}" (${e11a.file}, sha256 ${e11a.sha256})`,
    '// as checked in under scripts/annex-e/source/ (provenance in its README.md and source.json):',
    `//   ${manifest.publisherUrl}`,
    `//   via ${manifest.retrievedFrom.repository} @ ${manifest.retrievedFrom.commit}, ${manifest.retrievedFrom.path}`,
    '//',
    '// Every row of Table E.1-1, sorted by tag then name. Names are as printed, with whitespace collapsed,',
    '// zero-width characters removed and a trailing "(see Note N)" moved to seeNote; action codes are',
    '// exactly the codes of Table E.1-1a; an empty option cell is an absent key.',
    '',
    '/** A de-identification action code, as defined by PS3.15 Table E.1-1a. */',
    `export type AnnexEAction = ${codes.map((c) => str(c.code)).join(' | ')};`,
    '',
    '/**',
    " * How a row's tag reads: `exact`, one attribute; `mask`, a repeating group whose lower-case `x` digits",
    ' * match any hex digit; `private`, every private attribute (the table\'s "(gggg,eeee) where gggg is odd").',
    ' */',
    "export type AnnexETagKind = 'exact' | 'mask' | 'private';",
    '',
    '/** The option columns of Table E.1-1 that give this attribute an action; an empty cell is absent. */',
    'export interface AnnexEOptions {',
  );
  for (const column of OPTION_COLUMNS) {
    out.push(`  /** ${column.option} ("${column.header}"). */`, `  readonly ${column.field}?: AnnexEAction;`);
  }
  out.push(
    '}',
    '',
    'export interface AnnexERow {',
    '  /** Attribute Name. */',
    '  readonly name: string;',
    "  /** The note under PS3.15 E.1.1 the name cell points at, e.g. 'Note 11' for Icon Image Sequence. */",
    '  readonly seeNote?: string;',
    "  /** 'GGGGEEEE', upper-case hex; a masked digit is a lower-case 'x' ('50xxxxxx'); the private row is 'ggggeeee'. */",
    '  readonly tag: string;',
    '  readonly tagKind: AnnexETagKind;',
    "  /** The Tag column as printed, e.g. '(0008,0050)'. */",
    '  readonly tagText: string;',
    '  /** Retd. (from PS3.6). */',
    '  readonly retired: boolean;',
    '  /** In Std. Comp. IOD (from PS3.3). */',
    '  readonly inStdCompIod: boolean;',
    '  /** Basic Prof.: the Basic Application Level Confidentiality Profile action. */',
    '  readonly basic: AnnexEAction;',
    '  readonly options: AnnexEOptions;',
    '}',
    '',
    `export const ANNEX_E_EDITION = ${str(edition)};`,
    '',
    '/** PS3.15 Table E.1-1a: each action code and its meaning. */',
    'export const ANNEX_E_ACTION_CODES: Readonly<Record<AnnexEAction, string>> = {',
    ...codes.map((c) => {
      const key = /^[A-Za-z_$][\w$]*$/.test(c.code) ? c.code : str(c.code);
      const flat = `  ${key}: ${str(c.meaning)},`;
      return flat.length <= PRINT_WIDTH ? flat : `  ${key}:\n    ${str(c.meaning)},`;
    }),
    '};',
    '',
    'export const ANNEX_E_ROWS: readonly AnnexERow[] = [',
    ...rows.flatMap(emitRow),
    '];',
    '',
  );
  return out.join('\n');
}

function summary(codes, rows, footnotes) {
  const lines = [`${rows.length} rows`];
  const counts = new Map(codes.map((c) => [c.code, 0]));
  for (const row of rows) counts.set(row.basic, counts.get(row.basic) + 1);
  lines.push(`basic profile: ${[...counts].map(([code, n]) => `${code}=${n}`).join(' ')}`);
  const patterns = rows.filter((r) => r.tagKind !== 'exact').map((r) => `${r.tagText} ${r.name}`);
  lines.push(`pattern tags: ${patterns.join('; ')}`);
  const seen = new Map();
  for (const row of rows) seen.set(row.tag, [...(seen.get(row.tag) ?? []), row.name]);
  const duplicates = [...seen].filter(([, names]) => names.length > 1).map(([tag, names]) => `${tag} (${names.join(' / ')})`);
  lines.push(`tags listed more than once: ${duplicates.length ? duplicates.join('; ') : 'none'}`);
  const notes = rows.filter((r) => r.seeNote !== undefined).map((r) => `${r.name} (see ${r.seeNote})`);
  lines.push(`names pointing at a note: ${notes.length ? notes.join('; ') : 'none'}`);
  lines.push(`footnotes dropped: ${footnotes.length ? footnotes.map((f) => `${f.row} [${f.field}]`).join('; ') : 'none'}`);
  return lines.map((l) => `annex-e/generate: ${l}\n`).join('');
}

function main() {
  const check = process.argv.includes('--check');
  const source = readSource();
  const codes = parseActionCodes(source.e11a);
  const { rows, footnotes } = parseRows(source.e11, codes);
  rows.sort(byTagThenName);
  const text = render(source, codes, rows);
  const target = relative(ROOT, OUT_FILE).split('\\').join('/');
  if (check) {
    const current = existsSync(OUT_FILE) ? readFileSync(OUT_FILE, 'utf8') : null;
    if (current !== text) fail(`${target} is ${current === null ? 'missing' : 'stale'}; run node ${SCRIPT}`);
    process.stderr.write(`annex-e/generate: ${target} is up to date\n`);
    return;
  }
  mkdirSync(dirname(OUT_FILE), { recursive: true });
  writeFileSync(OUT_FILE, text);
  process.stderr.write(summary(codes, rows, footnotes));
  process.stderr.write(`annex-e/generate: wrote ${target}\n`);
}

main();
