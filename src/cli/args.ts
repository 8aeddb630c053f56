/**
 * A small, strict flag parser. Each command declares its flags; anything else is refused with one line
 * that names the flag and the command's `--help`.
 *
 * Accepted forms: `--name value`, `--name=value`, `-n value` (a declared short name), and for booleans
 * `--name`, `--name=true|false` and `--no-name`. Numbers are decimal (`2e-4` is fine, `0x10` is not) and
 * checked against the flag's range. A flag given twice, a value missing, and a positional argument are
 * refused.
 *
 * @module
 */

import { didYouMean } from '../autograd/options.ts';
import { UsageError } from './errors.ts';

/**
 * The kind of value a flag takes.
 * @example const kind: FlagType = 'integer';
 */
export type FlagType = 'string' | 'number' | 'integer' | 'boolean';

/**
 * One flag of a command.
 * @example const epochs: FlagSpec = { type: 'integer', min: 1, help: 'passes over the training rows' };
 */
export interface FlagSpec {
  type: FlagType;
  /** One line of help. */
  help: string;
  /** A one-letter alias, used as `-n`. */
  short?: string;
  /** The value's placeholder in the help, e.g. `N`, `DIR` (default: by type). */
  value?: string;
  /** Smallest accepted number (inclusive). */
  min?: number;
  /** Largest accepted number (inclusive). */
  max?: number;
  /** Numbers must be strictly greater than `min`. */
  exclusiveMin?: boolean;
  /** Numbers must be strictly less than `max`. */
  exclusiveMax?: boolean;
  /** The accepted strings. */
  choices?: readonly string[];
}

/**
 * A command: its name, what it does, its usage line and flags.
 * @example const spec: CommandSpec = { name: 'info', summary: 'Shows a run.', usage: '--model DIR', flags: { model: { type: 'string', help: 'the run folder' } } };
 */
export interface CommandSpec {
  name: string;
  summary: string;
  /** Usage after `flowgrad <name>`, e.g. `--model DIR -n N [--seed S]`. */
  usage: string;
  flags: Readonly<Record<string, FlagSpec>>;
  /** Extra paragraphs for `--help`. */
  notes?: readonly string[];
}

/**
 * A parsed value.
 * @example const v: FlagValue | undefined = flags.values.get('epochs'); // 3
 */
export type FlagValue = string | number | boolean;

/**
 * The flags given on the command line, with typed accessors (absent flags are undefined).
 * @example const flags = parseArgs(spec, ['--epochs', '3']); flags.integer('epochs'); // 3
 */
export class Flags {
  constructor(
    /** The command these flags belong to. */
    readonly command: string,
    /** The values by flag name. */
    readonly values: ReadonlyMap<string, FlagValue>,
  ) {}

  /**
   * Whether the flag was given.
   * @example if (!flags.has('seed')) console.log('seed 0 (default)');
   */
  has(name: string): boolean {
    return this.values.has(name);
  }

  /**
   * The value of a string flag, or undefined when absent.
   * @example flags.string('out') ?? 'runs/default';
   */
  string(name: string): string | undefined {
    return this.get(name, 'string') as string | undefined;
  }

  /**
   * The value of a number flag, or undefined when absent.
   * @example flags.number('lr') ?? 1e-3;
   */
  number(name: string): number | undefined {
    return this.get(name, 'number') as number | undefined;
  }

  /**
   * The value of an integer flag, or undefined when absent.
   * @example flags.integer('epochs') ?? 1000;
   */
  integer(name: string): number | undefined {
    return this.get(name, 'number') as number | undefined;
  }

  /**
   * The value of a boolean flag (`--name` true, `--no-name` false), or undefined when absent.
   * @example flags.boolean('json') === true;
   */
  boolean(name: string): boolean | undefined {
    return this.get(name, 'boolean') as boolean | undefined;
  }

  /**
   * The value of a required flag; a usage error names it when absent.
   * @example const dir = flags.require<string>('model'); // throws a UsageError naming --model when it is absent
   */
  require<T extends FlagValue>(name: string): T {
    const v = this.values.get(name);
    if (v === undefined) throw new UsageError(`${this.command}: --${name} is required; see flowgrad ${this.command} --help`);
    return v as T;
  }

  private get(name: string, type: 'string' | 'number' | 'boolean'): FlagValue | undefined {
    const v = this.values.get(name);
    if (v !== undefined && typeof v !== type) throw new TypeError(`Flags: --${name} holds a ${typeof v}, not a ${type}`);
    return v;
  }
}

const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const TRUE = ['true', '1', 'yes'];
const FALSE = ['false', '0', 'no'];

/**
 * Whether `argv` asks for help (`--help` or `-h` anywhere).
 * @example wantsHelp(['--help']); // true
 */
export function wantsHelp(argv: readonly string[]): boolean {
  return argv.includes('--help') || argv.includes('-h');
}

/**
 * Parses `argv` (the arguments after the command name) against the command's flags.
 *
 * @example
 * const spec = { name: 'sample', summary: '', usage: '', flags: { n: { type: 'integer', min: 1, help: '', short: 'n' } } };
 * parseArgs(spec, ['-n', '100']).integer('n'); // 100
 * parseArgs(spec, ['--m', '1']);               // UsageError: unknown flag --m for sample; see flowgrad sample --help
 */
export function parseArgs(spec: CommandSpec, argv: readonly string[]): Flags {
  const values = new Map<string, FlagValue>();
  const see = `see flowgrad ${spec.name} --help`;
  const fail = (message: string): never => {
    throw new UsageError(`${spec.name}: ${message}; ${see}`);
  };
  const shortNames = new Map<string, string>();
  for (const [name, flag] of Object.entries(spec.flags)) if (flag.short !== undefined) shortNames.set(flag.short, name);

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    let name: string, inline: string | undefined, shown: string;
    if (arg.startsWith('--') && arg.length > 2) {
      const eq = arg.indexOf('=');
      name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      inline = eq < 0 ? undefined : arg.slice(eq + 1);
      shown = `--${name}`;
    } else if (arg.startsWith('-') && arg.length > 1 && !DECIMAL.test(arg)) {
      const eq = arg.indexOf('=');
      const short = eq < 0 ? arg.slice(1) : arg.slice(1, eq);
      inline = eq < 0 ? undefined : arg.slice(eq + 1);
      shown = `-${short}`;
      const long = shortNames.get(short);
      if (long === undefined) return fail(`unknown flag ${shown}${suggest(short, [...shortNames.keys()].map((s) => `-${s}`), '-')}`);
      name = long;
    } else {
      return fail(`unexpected argument ${JSON.stringify(arg)} (every value follows its flag, e.g. --out DIR)`);
    }

    let flag = Object.prototype.hasOwnProperty.call(spec.flags, name) ? spec.flags[name] : undefined;
    let negated = false;
    if (flag === undefined && name.startsWith('no-')) {
      const base = spec.flags[name.slice(3)];
      if (base !== undefined && base.type === 'boolean' && Object.prototype.hasOwnProperty.call(spec.flags, name.slice(3))) {
        flag = base;
        negated = true;
        name = name.slice(3);
      }
    }
    if (flag === undefined) return fail(`unknown flag ${shown}${suggest(name, Object.keys(spec.flags), '--')}`);
    if (values.has(name)) return fail(`--${name} is given twice`);

    if (flag.type === 'boolean') {
      if (negated) {
        if (inline !== undefined) return fail(`${shown} takes no value`);
        values.set(name, false);
      } else if (inline === undefined) {
        values.set(name, true);
      } else if (TRUE.includes(inline.toLowerCase())) {
        values.set(name, true);
      } else if (FALSE.includes(inline.toLowerCase())) {
        values.set(name, false);
      } else {
        return fail(`${shown} must be true or false, got ${JSON.stringify(inline)}`);
      }
      continue;
    }

    let text = inline;
    if (text === undefined) {
      const next = argv[i + 1];
      const isValue = next !== undefined && (!next.startsWith('-') || next === '-' || (flag.type !== 'string' && DECIMAL.test(next)));
      if (!isValue) return fail(`${shown} needs a value (${placeholder(name, flag)})`);
      text = next;
      i++;
    }
    values.set(name, convert(name, flag, text, fail));
  }
  return new Flags(spec.name, values);
}

function convert(name: string, flag: FlagSpec, text: string, fail: (message: string) => never): FlagValue {
  if (flag.type === 'string') {
    if (text === '') return fail(`--${name} needs a non-empty value`);
    if (flag.choices !== undefined && !flag.choices.includes(text)) return fail(`--${name} must be one of ${flag.choices.join(', ')}, got ${JSON.stringify(text)}${suggest(text, flag.choices, '')}`);
    return text;
  }
  const kind = flag.type === 'integer' ? 'an integer' : 'a number';
  if (!DECIMAL.test(text.trim())) return fail(`--${name} must be ${kind}, got ${JSON.stringify(text)}`);
  const v = Number(text);
  if (!Number.isFinite(v)) return fail(`--${name} must be a finite number, got ${JSON.stringify(text)}`);
  if (flag.type === 'integer' && !Number.isSafeInteger(v)) return fail(`--${name} must be an integer, got ${JSON.stringify(text)}`);
  const lowOk = flag.min === undefined || (flag.exclusiveMin === true ? v > flag.min : v >= flag.min);
  const highOk = flag.max === undefined || (flag.exclusiveMax === true ? v < flag.max : v <= flag.max);
  if (!lowOk || !highOk) return fail(`--${name} must be ${kind} ${rangeText(flag)}, got ${text}`);
  return v;
}

/** The accepted range of a numeric flag as words, e.g. `>= 1`, `in [0, 1)`. */
function rangeText(flag: FlagSpec): string {
  const lo = flag.min, hi = flag.max;
  if (lo !== undefined && hi !== undefined) return `in ${flag.exclusiveMin === true ? '(' : '['}${lo}, ${hi}${flag.exclusiveMax === true ? ')' : ']'}`;
  if (lo !== undefined) return `${flag.exclusiveMin === true ? '>' : '>='} ${lo}`;
  if (hi !== undefined) return `${flag.exclusiveMax === true ? '<' : '<='} ${hi}`;
  return '';
}

function placeholder(name: string, flag: FlagSpec): string {
  return flag.value ?? (flag.choices !== undefined ? flag.choices.join('|') : flag.type === 'string' ? name.toUpperCase() : flag.type === 'integer' ? 'N' : 'X');
}

/** ` (did you mean --epochs?)` for a name within edit distance 2 of a known one (the library's `didYouMean`), else ''. */
function suggest(name: string, known: readonly string[], prefix: string): string {
  const best = didYouMean(name, known.map((k) => k.replace(/^-+/, '')));
  return best === undefined ? '' : ` (did you mean ${prefix}${best}?)`;
}

/**
 * The `--help` text of a command: usage, summary, flags with their value placeholders, notes.
 * @example console.log(formatHelp(trainSpec));
 */
export function formatHelp(spec: CommandSpec): string {
  const rows: [string, string][] = Object.entries(spec.flags).map(([name, flag]) => {
    const short = flag.short !== undefined ? `-${flag.short}, ` : '';
    const value = flag.type === 'boolean' ? '' : ` ${placeholder(name, flag)}`;
    return [`  ${short}--${name}${value}`, flag.help];
  });
  rows.push(['  -h, --help', 'show this help']);
  const width = Math.min(30, Math.max(...rows.map(([left]) => left.length)) + 2);
  const lines = [`Usage: flowgrad ${spec.name} ${spec.usage}`, '', spec.summary, '', 'Flags:'];
  for (const [left, help] of rows) lines.push(left.length >= width ? `${left}\n${' '.repeat(width)}${help}` : left.padEnd(width) + help);
  if (spec.notes !== undefined && spec.notes.length > 0) lines.push('', ...spec.notes);
  return lines.join('\n') + '\n';
}
