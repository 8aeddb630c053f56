/**
 * Reading and writing plain numeric CSV: a pure function over text (no file access), so it runs the same
 * in a browser, a worker, Deno, Bun and Node. The caller reads the file.
 *
 * The accepted format is deliberately narrow: decimal numbers separated by a comma (or another one-character
 * delimiter), one row per line, an optional header row. A field may be wrapped in double quotes (`"1.5"`,
 * `"height, cm"`; `""` inside stands for one quote), which are removed; a field cannot span lines. Anything
 * else is refused with a {@link CsvError} that says where and what.
 *
 * @module
 */

import { Tensor } from '../autograd/tensor.ts';

/**
 * Thrown for text that is not a numeric CSV table. `line` and `column` are 1-based (0 when the problem is
 * the whole text), `text` is the offending cell; the message reads e.g. `line 7, column 2: "abc" is not a
 * number`.
 *
 * @example
 * try { parseCsv('1,2\n3,abc'); } catch (e) { (e as CsvError).line; } // 2
 */
export class CsvError extends Error {
  override readonly name = 'CsvError';
  /** 1-based line of the problem (0: the text as a whole). */
  readonly line: number;
  /** 1-based column of the problem (0: the row as a whole). */
  readonly column: number;
  /** The offending cell text ('' when there is none). */
  readonly text: string;

  constructor(message: string, line: number, column: number, text: string) {
    super(message);
    this.line = line;
    this.column = column;
    this.text = text;
  }
}

/**
 * Options of {@link parseCsv}.
 * @example parseCsv(text, { header: true });
 */
export interface ParseCsvOptions {
  /**
   * Whether the first non-blank line is a header: `true`, `false`, or `'auto'` (the default): a header
   * when none of its cells is a number or empty. A first row mixing numbers and text is refused in `'auto'` mode
   * (it is more likely a broken data row than a header); pass `header: true` for such a header.
   */
  header?: boolean | 'auto';
  /** The field separator, one character other than a quote or a line break (default `,`; `\t` for TSV). */
  delimiter?: string;
}

/**
 * What {@link parseCsv} returns: the header's names (or null) and the numbers as an n×cols tensor.
 * @example const { columns, data }: CsvTable = parseCsv('x,y\n1,2'); // ['x', 'y'], 1×2
 */
export interface CsvTable {
  /** The column names from the header row, or null when there is none. */
  columns: string[] | null;
  /** The data rows, in file order. */
  data: Tensor;
}

// Decimal numbers only: optional sign, digits with an optional point (or a leading point), optional
// exponent. Refuses hex (0x10), binary, octal, '1_000', 'Infinity', 'NaN' and '' that Number() would take.
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * Parses numeric CSV text into a tensor.
 *
 * - Lines end in LF, CRLF or CR; a leading byte-order mark, blank lines (anywhere) and the trailing newline
 *   are ignored; whitespace around each cell is trimmed.
 * - Every cell must be a finite decimal number: `1`, `-2.5`, `.5`, `3.`, `1e-3`, `+4E+2`. Refused, with
 *   the 1-based line and column and the cell's text: an empty cell, `NaN`, `Infinity`, `inf`, hex such as
 *   `0x10`, `1_000`, text, and numbers that overflow float64 such as `1e309`. (Numbers that underflow,
 *   such as `1e-400`, become 0.)
 * - Every row must have as many cells as the first row (ragged rows are refused).
 * - A text with no data rows (empty, or only a header) is refused.
 *
 * @example
 * const { columns, data } = parseCsv('x,y\n1,2\n3,4\n');
 * columns;        // ['x', 'y']
 * data.toArray(); // [[1, 2], [3, 4]]
 * parseCsv('1,2\n3,abc'); // CsvError: line 2, column 2: "abc" is not a number
 */
export function parseCsv(text: string, options: ParseCsvOptions = {}): CsvTable {
  const headerMode = options.header ?? 'auto';
  const delimiter = options.delimiter ?? ',';
  if (typeof delimiter !== 'string' || delimiter.length !== 1 || /["\r\n]/.test(delimiter)) {
    throw new RangeError(`parseCsv: delimiter must be one character other than a quote or a line break, got ${JSON.stringify(delimiter)}`);
  }
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const lines = body.split(/\r\n|\n|\r/);
  let columns: string[] | null = null;
  let width = -1;
  let firstLine = 0;
  const values: number[] = [];
  let rows = 0;
  for (let l = 0; l < lines.length; l++) {
    const line = lines[l]!;
    if (line.trim() === '') continue;
    const lineNo = l + 1;
    const cells = splitCells(line, delimiter, lineNo);
    if (width < 0) {
      width = cells.length;
      firstLine = lineNo;
      if (isHeader(cells, headerMode, lineNo)) {
        columns = cells;
        continue;
      }
    }
    if (cells.length !== width) {
      const where = `line ${lineNo}, column ${Math.min(cells.length, width) + 1}`;
      const what = cells.length < width
        ? `missing value (expected ${width} columns like line ${firstLine}, got ${cells.length})`
        : `unexpected extra value "${cells[width]}" (expected ${width} columns like line ${firstLine}, got ${cells.length})`;
      throw new CsvError(`${where}: ${what}`, lineNo, Math.min(cells.length, width) + 1, cells.length < width ? '' : cells[width]!);
    }
    for (let c = 0; c < width; c++) values.push(parseCell(cells[c]!, lineNo, c + 1));
    rows++;
  }
  if (rows === 0) {
    const why = columns !== null ? `only a header (line ${firstLine}) and no data rows` : 'no data rows (the text is empty or blank)';
    throw new CsvError(`csv: ${why}`, 0, 0, '');
  }
  return { columns, data: Tensor.from(rows, width, Float64Array.from(values)) };
}

/**
 * Writes a tensor as CSV: one line per row, values joined by commas, a trailing newline, and a header
 * line first when `columns` is given. Numbers use `String(x)`, the shortest text that reads back as the
 * same float64, so `parseCsv(toCsv(t))` reproduces `t` exactly (except that -0 is written as 0).
 * Non-finite values are refused (parseCsv would refuse them too), as are column names containing a comma,
 * a quote or a line break.
 *
 * @example
 * toCsv(tensor([[0.1, 2], [3, 1e-20]]), ['x', 'y']); // 'x,y\n0.1,2\n3,1e-20\n'
 */
export function toCsv(tensor: Tensor, columns?: readonly string[]): string {
  const parts: string[] = [];
  if (columns !== undefined) {
    if (columns.length !== tensor.cols) {
      throw new RangeError(`toCsv: ${columns.length} column names for ${tensor.cols} columns`);
    }
    for (const name of columns) {
      if (/[,"\r\n]/.test(name)) throw new RangeError(`toCsv: column name ${JSON.stringify(name)} contains a comma, a quote or a line break`);
    }
    parts.push(columns.join(','));
  }
  const { rows, cols, data } = tensor;
  const row: string[] = new Array(cols);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const v = data[i * cols + j]!;
      if (!Number.isFinite(v)) throw new RangeError(`toCsv: value at row ${i}, column ${j} is ${v}; CSV holds finite numbers only`);
      row[j] = String(v);
    }
    parts.push(row.join(','));
  }
  return parts.join('\n') + '\n';
}

// Decides whether the first row is a header; throws for an 'auto' row that is half numbers, half text.
function isHeader(cells: string[], mode: boolean | 'auto', lineNo: number): boolean {
  if (mode !== 'auto') return mode;
  let numbers = 0;
  let firstNumber = -1, firstText = -1;
  for (let c = 0; c < cells.length; c++) {
    if (DECIMAL.test(cells[c]!)) {
      numbers++;
      if (firstNumber < 0) firstNumber = c;
    } else if (firstText < 0) {
      firstText = c;
    }
  }
  if (numbers === cells.length) return false;
  if (numbers === 0) return !cells.includes(''); // an empty cell makes it a broken data row, refused below

  throw new CsvError(
    `line ${lineNo}, column ${firstText + 1}: "${cells[firstText]}" is not a number, but column ${firstNumber + 1} ("${cells[firstNumber]}") is, ` +
      `so the first row is neither a header nor data; if it is a header, say so (header: true; on the command line, --header)`,
    lineNo,
    firstText + 1,
    cells[firstText]!,
  );
}

function parseCell(cell: string, line: number, column: number): number {
  const where = `line ${line}, column ${column}`;
  if (cell === '') throw new CsvError(`${where}: empty cell`, line, column, cell);
  if (!DECIMAL.test(cell)) {
    const hint = /^[+-]?(nan|inf|infinity)$/i.test(cell) ? ' (NaN and ±Infinity are refused)' : /^[+-]?0[xob]/i.test(cell) ? ' (only decimal numbers are accepted)' : '';
    throw new CsvError(`${where}: "${cell}" is not a number${hint}`, line, column, cell);
  }
  const v = Number(cell);
  if (!Number.isFinite(v)) throw new CsvError(`${where}: "${cell}" is out of the float64 range`, line, column, cell);
  return v;
}

// The fields of one line, trimmed, with surrounding double quotes removed ("" inside a quoted field is one quote).
function splitCells(line: string, delimiter: string, lineNo: number): string[] {
  const cells: string[] = [];
  const blank = (ch: string | undefined) => ch !== delimiter && (ch === ' ' || ch === '\t');
  let i = 0;
  for (;;) {
    while (i < line.length && blank(line[i])) i++;
    let cell: string;
    if (line[i] === '"') {
      let text = '';
      let j = i + 1;
      for (;;) {
        if (j >= line.length) throw new CsvError(`line ${lineNo}, column ${cells.length + 1}: a quoted field is not closed (fields cannot span lines)`, lineNo, cells.length + 1, line.slice(i));
        if (line[j] === '"') {
          if (line[j + 1] === '"') {
            text += '"';
            j += 2;
            continue;
          }
          break;
        }
        text += line[j];
        j++;
      }
      cell = text.trim();
      i = j + 1;
      while (i < line.length && blank(line[i])) i++;
      if (i < line.length && line[i] !== delimiter) throw new CsvError(`line ${lineNo}, column ${cells.length + 1}: unexpected text after a quoted field`, lineNo, cells.length + 1, line.slice(i));
    } else {
      const end = line.indexOf(delimiter, i);
      cell = (end < 0 ? line.slice(i) : line.slice(i, end)).trim();
      i = end < 0 ? line.length : end;
    }
    cells.push(cell);
    if (i >= line.length) return cells;
    i++; // the delimiter
  }
}
