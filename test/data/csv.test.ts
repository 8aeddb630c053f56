import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tensor } from '../../src/autograd/tensor.ts';
import { CsvError, parseCsv, toCsv } from '../../src/data/csv.ts';
import { assertThrows } from '../helpers/assert.ts';
import { check, fc } from '../helpers/fc.ts';

function refuses(text: string, line: number, column: number, patterns: (string | RegExp)[], options = {}): void {
  const e = assertThrows(() => parseCsv(text, options), [`line ${line}, column ${column}`, ...patterns], CsvError) as CsvError;
  assert.is(e.line, line);
  assert.is(e.column, column);
}

test('a header is detected when no cell of the first row is a number', () => {
  const { columns, data } = parseCsv('x,y\n1,2\n3,4\n');
  assert.equal(columns, ['x', 'y']);
  assert.equal(data.toArray(), [[1, 2], [3, 4]]);
  const plain = parseCsv('1,2\n3,4');
  assert.is(plain.columns, null);
  assert.equal(plain.data.toArray(), [[1, 2], [3, 4]]);
});

test('header: true takes a numeric-looking first row as names; header: false refuses a text row', () => {
  const { columns, data } = parseCsv('0,1\n5,6', { header: true });
  assert.equal(columns, ['0', '1']);
  assert.equal(data.toArray(), [[5, 6]]);
  refuses('x,y\n1,2', 1, 1, ['"x" is not a number'], { header: false });
});

test('a first row mixing numbers and text is refused in auto mode, with a hint', () => {
  refuses('1.0,abc\n2,3', 1, 2, ['"abc" is not a number', 'column 1 ("1.0") is', 'header: true']);
});

test('blank lines anywhere, whitespace, a byte-order mark and the trailing newline are ignored', () => {
  const { columns, data } = parseCsv('\uFEFF\n\n  a , b \n\n 1 ,  2\n   \n3,4\n\n');
  assert.equal(columns, ['a', 'b']);
  assert.equal(data.toArray(), [[1, 2], [3, 4]]);
});

test('CRLF and bare CR line endings are handled, and line numbers count them', () => {
  assert.equal(parseCsv('x,y\r\n1,2\r\n3,4\r\n').data.toArray(), [[1, 2], [3, 4]]);
  assert.equal(parseCsv('1,2\r3,4').data.toArray(), [[1, 2], [3, 4]]);
  refuses('x,y\r\n1,2\r\n\r\n3,q\r\n', 4, 2, ['"q" is not a number']);
});

test('quoted header names lose their quotes', () => {
  assert.equal(parseCsv('"x","y"\n1,2').columns, ['x', 'y']);
});

test('decimal forms are read exactly as Number() reads them', () => {
  const { data } = parseCsv('1,-2.5,.5,3.,1e-3,+4E+2,0.1,-0,1e-400');
  assert.equal(Array.from(data.data), [1, -2.5, 0.5, 3, 0.001, 400, 0.1, -0, 0]);
});

test('a ragged row is refused with the line, the column and both counts', () => {
  refuses('a,b,c\n1,2,3\n4,5\n', 3, 3, ['missing value', 'expected 3 columns like line 1, got 2']);
  refuses('1,2\n3,4,5\n', 2, 3, ['unexpected extra value "5"', 'expected 2 columns like line 1, got 3']);
  refuses('x,y\n\n\n\n\n\n1,2,3', 7, 3, ['unexpected extra value "3"']);
});

test('an empty cell is refused', () => {
  refuses('x,y,z\n1,,3', 2, 2, ['empty cell']);
  refuses('1,2\n3,', 2, 2, ['empty cell']);
  refuses(',,\n1,2,3', 1, 1, ['empty cell']);
});

test('NaN, Infinity, hex, overflow and text are refused with the cell text', () => {
  refuses('x\n1\nNaN', 3, 1, ['"NaN" is not a number', 'NaN and ±Infinity are refused']);
  refuses('x\nInfinity', 2, 1, ['"Infinity" is not a number', 'refused']);
  refuses('x\n-Infinity', 2, 1, ['"-Infinity"']);
  refuses('x\ninf', 2, 1, ['"inf"']);
  refuses('x\n0x10', 2, 1, ['"0x10" is not a number', 'only decimal numbers']);
  refuses('x\n1e309', 2, 1, ['"1e309" is out of the float64 range']);
  refuses('x\n-1e309', 2, 1, ['out of the float64 range']);
  refuses('a,b\n1,2\n3,4\n5,6\n7,8\n9,10\n11,abc', 7, 2, ['"abc" is not a number']);
  refuses('x\n1_000', 2, 1, ['"1_000"']);
  refuses('x\n"a"', 2, 1, ['"a" is not a number']);
});

test('no data rows is an error: empty text, blank text, or only a header', () => {
  assertThrows(() => parseCsv(''), ['no data rows'], CsvError);
  assertThrows(() => parseCsv('\n \r\n'), ['no data rows'], CsvError);
  assertThrows(() => parseCsv('x,y\n'), ['only a header (line 1) and no data rows'], CsvError);
  assertThrows(() => parseCsv('\n\nx,y\n\n'), ['only a header (line 3)'], CsvError);
});

test('toCsv writes a header and shortest round-trip numbers', () => {
  assert.is(toCsv(tensor([[0.1, 2], [3, 1e-20]]), ['x', 'y']), 'x,y\n0.1,2\n3,1e-20\n');
  assert.is(toCsv(tensor([[1 / 3]])), '0.3333333333333333\n');
});

test('toCsv refuses non-finite values and bad column names', () => {
  assertThrows(() => toCsv(tensor([[1, NaN]])), ['row 0, column 1 is NaN']);
  assertThrows(() => toCsv(tensor([[Infinity]])), ['Infinity']);
  assertThrows(() => toCsv(tensor([[1, 2]]), ['x']), ['1 column names for 2 columns']);
  assertThrows(() => toCsv(tensor([[1]]), ['a,b']), ['contains a comma']);
});

test('parseCsv(toCsv(x)) reproduces every finite float64 exactly', () => {
  check(
    fc.property(fc.array(fc.array(fc.double({ noNaN: true, noDefaultInfinity: true }), { minLength: 3, maxLength: 3 }), { minLength: 1, maxLength: 20 }), (rows) => {
      const t = tensor(rows);
      const back = parseCsv(toCsv(t, ['a', 'b', 'c']));
      assert.equal(back.columns, ['a', 'b', 'c']);
      assert.equal(back.data.shape, t.shape);
      for (let i = 0; i < t.size; i++) {
        // -0 is written as "0": the only value that does not come back bit for bit.
        const expected = Object.is(t.data[i], -0) ? 0 : t.data[i];
        assert.ok(Object.is(back.data.data[i], expected), `value ${i}: wrote ${t.data[i]}, read ${back.data.data[i]}`);
      }
    }),
  );
});

test('quoted numbers, quoted names with the delimiter inside, and other delimiters are read', () => {
  const { columns, data } = parseCsv('"height, cm";"w"\n"1.5";2\n 3 ; "4e1" \n', { delimiter: ';' });
  assert.equal(columns, ['height, cm', 'w']);
  assert.equal(data.toArray(), [[1.5, 2], [3, 40]]);
  assert.equal(parseCsv('"1","2"\n3,4').data.toArray(), [[1, 2], [3, 4]], 'a quoted numeric first row is data');
  assert.equal(parseCsv('a\tb\n1\t2', { delimiter: '\t' }).columns, ['a', 'b']);
  assert.equal(parseCsv('"say ""hi""",b\n1,2').columns, ['say "hi"', 'b']);
  assert.throws(() => parseCsv('"1,2\n3,4'), /quoted field is not closed/);
  assert.throws(() => parseCsv('1,2', { delimiter: '"' }), /delimiter must be one character/);
});

test.run();
