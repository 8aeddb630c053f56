/**
 * The flag parser: every accepted form, numbers checked against their range, and every mistake refused
 * with one line that names the flag and the command's --help.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatHelp, parseArgs, wantsHelp, type CommandSpec } from '../../src/cli/args.ts';
import { UsageError } from '../../src/cli/errors.ts';
import { assertThrows } from '../helpers/assert.ts';

const spec: CommandSpec = {
  name: 'demo',
  summary: 'A command for the tests.',
  usage: '--out DIR [options]',
  flags: {
    out: { type: 'string', value: 'DIR', help: 'where' },
    preset: { type: 'string', choices: ['default', 'post'], help: 'which' },
    epochs: { type: 'integer', min: 1, help: 'how many' },
    lr: { type: 'number', min: 0, exclusiveMin: true, help: 'rate' },
    'val-fraction': { type: 'number', min: 0, max: 1, exclusiveMax: true, help: 'fraction' },
    seed: { type: 'integer', min: -5, help: 'seed' },
    n: { type: 'integer', short: 'n', min: 1, help: 'count' },
    standardize: { type: 'boolean', help: 'flag' },
    quiet: { type: 'boolean', help: 'flag' },
  },
};

function usage(argv: string[], patterns: (RegExp | string)[]): void {
  const err = assertThrows(() => parseArgs(spec, argv), [...patterns, 'see flowgrad demo --help'], UsageError) as UsageError;
  assert.is(err.exitCode, 2);
  assert.not.match(err.message, /\n/);
}

test('values follow their flag with a space or an equals sign', () => {
  const flags = parseArgs(spec, ['--out', 'runs/a', '--epochs=3', '--lr', '2e-4', '--preset=post']);
  assert.is(flags.string('out'), 'runs/a');
  assert.is(flags.integer('epochs'), 3);
  assert.is(flags.number('lr'), 2e-4);
  assert.is(flags.string('preset'), 'post');
  assert.is(flags.has('seed'), false);
  assert.is(flags.integer('seed'), undefined);
});

test('booleans take no value, an explicit true or false, or a no- prefix', () => {
  assert.is(parseArgs(spec, ['--quiet']).boolean('quiet'), true);
  assert.is(parseArgs(spec, ['--quiet=false']).boolean('quiet'), false);
  assert.is(parseArgs(spec, ['--standardize=yes']).boolean('standardize'), true);
  assert.is(parseArgs(spec, ['--no-standardize']).boolean('standardize'), false);
  // A boolean never swallows the next argument.
  assert.is(parseArgs(spec, ['--quiet', '--out', 'x']).string('out'), 'x');
});

test('a short name and a negative number are read as values', () => {
  const flags = parseArgs(spec, ['-n', '100', '--seed', '-3']);
  assert.is(flags.integer('n'), 100);
  assert.is(flags.integer('seed'), -3);
  assert.is(parseArgs(spec, ['-n=7']).integer('n'), 7);
});

test('an unknown flag is refused, with a suggestion when one is close', () => {
  usage(['--epoch', '3'], ['demo: unknown flag --epoch', '(did you mean --epochs?)']);
  usage(['--frobnicate'], ['unknown flag --frobnicate;']);
  usage(['-x', '1'], ['unknown flag -x']);
  usage(['--no-out'], ['unknown flag --no-out']);
});

test('numbers are decimal and inside their range', () => {
  usage(['--epochs', 'three'], ['--epochs must be an integer, got "three"']);
  usage(['--epochs', '2.5'], ['--epochs must be an integer']);
  usage(['--epochs', '0'], ['--epochs must be an integer >= 1, got 0']);
  usage(['--epochs', '0x10'], ['--epochs must be an integer, got "0x10"']);
  usage(['--lr', '0'], ['--lr must be a number > 0, got 0']);
  usage(['--lr', 'NaN'], ['--lr must be a number, got "NaN"']);
  usage(['--lr', '1e999'], ['--lr must be a finite number']);
  usage(['--val-fraction', '1'], ['--val-fraction must be a number in [0, 1), got 1']);
  usage(['--epochs', '99999999999999999999'], ['--epochs must be an integer']);
});

test('a missing value, a repeated flag, a wrong choice and a stray argument are refused', () => {
  usage(['--out'], ['--out needs a value (DIR)']);
  usage(['--out', '--quiet'], ['--out needs a value']);
  usage(['--out='], ['--out needs a non-empty value']);
  usage(['--epochs', '1', '--epochs', '2'], ['--epochs is given twice']);
  usage(['--preset', 'fast'], ['--preset must be one of default, post, got "fast"']);
  usage(['--quiet=maybe'], ['--quiet must be true or false, got "maybe"']);
  usage(['--no-quiet=true'], ['--no-quiet takes no value']);
  usage(['runs/a'], ['unexpected argument "runs/a"']);
});

test('require names a missing flag', () => {
  const err = assertThrows(() => parseArgs(spec, []).require('out'), ['demo: --out is required', 'see flowgrad demo --help'], UsageError);
  assert.is((err as UsageError).exitCode, 2);
});

test('help is asked for with --help or -h anywhere, and lists every flag', () => {
  assert.ok(wantsHelp(['--out', 'x', '--help']));
  assert.ok(wantsHelp(['-h']));
  assert.not.ok(wantsHelp(['--out', 'x']));
  const help = formatHelp(spec);
  assert.match(help, /^Usage: flowgrad demo --out DIR \[options\]/);
  for (const name of Object.keys(spec.flags)) assert.match(help, `--${name}`);
  assert.match(help, '-n, --n N');
  assert.match(help, '--preset default|post');
  assert.match(help, '-h, --help');
});

test.run();
