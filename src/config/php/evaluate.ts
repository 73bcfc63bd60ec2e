/**
 * Evaluates a Laravel config file (config/reverb.php, bootstrap/cache/config.php)
 * without PHP: the file is parsed with php-parser and only the constructs
 * config files are made of are evaluated — arrays, literals, env() and the
 * helpers in functions.ts, operators, ternaries, casts, arrow functions. Any
 * other construct stops with the file, line and what it is, never a guess.
 */
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { Engine } from 'php-parser';
import { ConfigError } from '../errors.js';
import { CONSTANTS, FUNCTIONS, type FunctionContext } from './functions.js';
import {
  PhpArray,
  compare,
  isCallable,
  looseEquals,
  strictEquals,
  toArithmetic,
  toBool,
  toFloat,
  toInt,
  toJson,
  toStr,
  type PhpValue,
} from './values.js';

/** The parts of php-parser's AST nodes the evaluator reads. */
interface Node {
  readonly kind: string;
  readonly loc?: { readonly start: { readonly line: number } } | null;
  readonly [field: string]: unknown;
}

export interface EvaluateOptions extends FunctionContext {
  /** How the file is named in messages (relative to the project). */
  readonly displayName: string;
  /** Evaluate only these keys of the returned array (e.g. 'reverb' of the cached config). */
  readonly onlyKeys?: readonly string[];
  /**
   * Leave out an array element whose value uses a construct outside the
   * subset (or fails), instead of stopping: for files of which only some keys
   * are read (config/pulse.php calls Pulse's own classes). Told each one.
   */
  readonly skipUnsupported?: (where: string, reason: string) => void;
}

/** A construct outside the supported subset, or a PHP error, at a line of the file. */
class Unsupported extends Error {
  constructor(
    message: string,
    readonly line: number | undefined,
  ) {
    super(message);
  }
}

const parser = new Engine({
  parser: { php8: true, suppressErrors: false, extractDoc: false },
  ast: { withPositions: true },
});

type Scope = Map<string, PhpValue>;

class Evaluator {
  /** `use` imports: alias (or last segment) to the fully qualified class name, for `Name::class`. */
  private readonly imports = new Map<string, string>();

  constructor(
    private readonly options: EvaluateOptions,
    private readonly file: string,
  ) {}

  run(program: Node): unknown {
    const globals: Scope = new Map();
    for (const statement of program.children as Node[]) {
      switch (statement.kind) {
        case 'declare': // declare(strict_types=1)
          continue;
        case 'usegroup': // `use Illuminate\Support\Str;`: the name counts for `Str::class`; static calls are refused where used
          this.use(statement);
          continue;
        case 'inline':
          if (String(statement.raw ?? '').trim() === '') continue;
          break;
        case 'expressionstatement':
          this.assign(statement.expression as Node, globals);
          continue;
        case 'return':
          return this.returned(statement.expr as Node | null, globals);
      }
      throw new Unsupported(`${describe(statement)} is not supported in a config file`, line(statement));
    }
    throw new Unsupported('the file returns nothing (expected `return [ ... ];`)', undefined);
  }

  private use(group: Node): void {
    const prefix = group.name ? `${String(group.name).replace(/^\\/, '')}\\` : '';
    for (const item of group.items as Node[]) {
      if ((group.type ?? item.type) !== null && (group.type ?? item.type) !== undefined) continue; // `use function` / `use const`
      const name = `${prefix}${String(item.name).replace(/^\\/, '')}`;
      const alias = (item.alias as Node | null)?.name;
      this.imports.set(String(alias ?? name.split('\\').pop()).toLowerCase(), name);
    }
  }

  /** `Name::class`: the fully qualified name, through the `use` imports (config files have no namespace). */
  private className(node: Node): string {
    const what = node.what as Node;
    if (what.kind !== 'name') throw new Unsupported(`${describe(what)}::class is not supported`, line(node));
    const name = String(what.name);
    if (what.resolution === 'fqn') return name.replace(/^\\/, '');
    const [first, ...rest] = name.split('\\');
    const imported = this.imports.get(first!.toLowerCase());
    return imported ? [imported, ...rest].join('\\') : name;
  }

  /** Top-level `$name = expression;`, as some config files compute a value once. */
  private assign(node: Node, scope: Scope): void {
    const target = node.left as Node | undefined;
    if (node.kind !== 'assign' || node.operator !== '=' || target?.kind !== 'variable' || typeof target.name !== 'string') {
      throw new Unsupported(`${describe(node)} is not supported in a config file (only \`$name = value;\` and \`return\`)`, line(node));
    }
    scope.set(target.name, this.value(node.right as Node, scope));
  }

  private returned(expression: Node | null, scope: Scope): unknown {
    if (!expression) throw new Unsupported('the file returns nothing (expected `return [ ... ];`)', undefined);
    const only = this.options.onlyKeys;
    if (!only || expression.kind !== 'array') return toJson(this.value(expression, scope));
    // A cached config holds every file of the project; evaluate only the sections asked for.
    const picked: Record<string, unknown> = {};
    for (const item of expression.items as Node[]) {
      if (item.kind !== 'entry' || !item.key) continue;
      const key = toStr(this.value(item.key as Node, scope));
      if (only.includes(key)) picked[key] = toJson(this.value(item.value as Node, scope));
    }
    return picked;
  }

  value(node: Node, scope: Scope): PhpValue {
    try {
      return this.evaluate(node, scope);
    } catch (error) {
      if (error instanceof Unsupported) throw error;
      // A PHP runtime error (TypeError, ValueError) in a supported construct.
      throw new Unsupported((error as Error).message, line(node));
    }
  }

  private evaluate(node: Node, scope: Scope): PhpValue {
    switch (node.kind) {
      case 'string':
        return node.value as string;
      case 'number':
        return parseNumber(node.value as string);
      case 'boolean':
        return node.value as boolean;
      case 'nullkeyword':
        return null;
      case 'nowdoc':
        return node.value as string;
      case 'magic':
        return this.magic(node);
      case 'array':
        return this.array(node, scope);
      case 'variable':
        return this.variable(node, scope);
      case 'name':
        return this.constant(node);
      case 'call':
        return this.call(node, scope);
      case 'bin':
        return this.binary(node, scope);
      case 'unary':
        return this.unary(node, scope);
      case 'retif': {
        const test = this.value(node.test as Node, scope);
        if (!node.trueExpr) return toBool(test) ? test : this.value(node.falseExpr as Node, scope);
        return this.value((toBool(test) ? node.trueExpr : node.falseExpr) as Node, scope);
      }
      case 'cast':
        return this.cast(node, scope);
      case 'encapsed':
        return (node.value as Node[]).map((part) => toStr(this.value(part.expression as Node, scope))).join('');
      case 'arrowfunc':
        return this.closure(node, node.body as Node, scope);
      case 'closure':
        return this.closure(node, closureBody(node), scope);
      case 'isset':
        return (node.variables as Node[]).every((variable) => this.optional(variable, scope) !== null);
      case 'empty':
        return !toBool(this.optional(node.expression as Node, scope));
      case 'offsetlookup':
        return this.offset(node, scope, false);
      case 'staticlookup':
        if (String((node.offset as Node).name).toLowerCase() === 'class') return this.className(node);
        throw new Unsupported(`the class constant ${staticName(node)} is not supported`, line(node));
    }
    throw new Unsupported(`${describe(node)} is not supported`, line(node));
  }

  private magic(node: Node): PhpValue {
    if (node.value === '__DIR__') return dirname(this.file);
    if (node.value === '__FILE__') return this.file;
    throw new Unsupported(`${String(node.value)} is not supported`, line(node));
  }

  private array(node: Node, scope: Scope): PhpArray {
    const out = new PhpArray();
    for (const item of node.items as (Node | null)[]) {
      if (!item) throw new Unsupported('an empty array element is not supported', line(node));
      if (item.kind !== 'entry') {
        out.push(this.value(item, scope));
        continue;
      }
      if (item.byRef) throw new Unsupported('a reference (&) in an array is not supported', line(item));
      let value: PhpValue;
      try {
        value = this.value(item.value as Node, scope);
      } catch (error) {
        const skip = this.options.skipUnsupported;
        if (!skip || !(error instanceof Unsupported)) throw error;
        skip(`${this.options.displayName}:${error.line ?? line(item) ?? '?'}`, error.message);
        continue;
      }
      if (item.unpack) {
        if (!(value instanceof PhpArray)) throw new Unsupported('only arrays can be unpacked with ...', line(item));
        for (const [key, inner] of value.entries) typeof key === 'number' ? out.push(inner) : out.set(key, inner);
      } else if (item.key) out.set(this.value(item.key as Node, scope), value);
      else out.push(value);
    }
    return out;
  }

  private variable(node: Node, scope: Scope): PhpValue {
    const name = node.name;
    if (typeof name !== 'string' || !scope.has(name)) {
      throw new Unsupported(`undefined variable $${String(name)}`, line(node));
    }
    return scope.get(name)!;
  }

  /** A value that may be missing without an error, as in isset(), empty() and `??`. */
  private optional(node: Node, scope: Scope): PhpValue {
    if (node.kind === 'variable' && typeof node.name === 'string') return scope.get(node.name) ?? null;
    if (node.kind === 'offsetlookup') return this.offset(node, scope, true);
    return this.value(node, scope);
  }

  private offset(node: Node, scope: Scope, optional: boolean): PhpValue {
    const container = optional ? this.optional(node.what as Node, scope) : this.value(node.what as Node, scope);
    if (!node.offset) throw new Unsupported('[] without an index is not supported here', line(node));
    const key = this.value(node.offset as Node, scope);
    if (container instanceof PhpArray) {
      const probe = new PhpArray();
      probe.set(key, null);
      const normalised = [...probe.entries.keys()][0]!;
      if (container.entries.has(normalised)) return container.entries.get(normalised)!;
    } else if (typeof container === 'string') {
      const index = toInt(key);
      const char = container.at(index);
      if (char !== undefined) return char;
    } else if (container === null && optional) {
      return null;
    }
    if (optional) return null;
    throw new Unsupported(`undefined array key ${JSON.stringify(toJson(key))}`, line(node));
  }

  private constant(node: Node): PhpValue {
    const name = String(node.name).replace(/^\\/, '');
    if (name in CONSTANTS) return CONSTANTS[name]!;
    throw new Unsupported(`the constant ${name} is not supported`, line(node));
  }

  private call(node: Node, scope: Scope): PhpValue {
    const what = node.what as Node;
    const args = (node.arguments as Node[]).map((argument) => {
      if (argument.kind === 'namedargument' || argument.kind === 'variadic') {
        throw new Unsupported('named or unpacked arguments are not supported', line(argument));
      }
      return this.value(argument, scope);
    });
    if (what.kind === 'staticlookup') throw new Unsupported(`the static method ${staticName(what)}() is not supported`, line(node));
    if (what.kind !== 'name') {
      const target = this.value(what, scope);
      if (isCallable(target)) return target.call(args);
      throw new Unsupported(`${describe(what)} is not supported`, line(node));
    }
    const name = String(what.name).replace(/^\\/, '').toLowerCase();
    const builtin = FUNCTIONS[name];
    if (!builtin) throw new Unsupported(`the function ${String(what.name)}() is not supported`, line(node));
    return builtin(args, this.options);
  }

  private binary(node: Node, scope: Scope): PhpValue {
    const type = node.type as string;
    const left = node.left as Node;
    const right = node.right as Node;
    switch (type) {
      case '??': {
        const value = this.optional(left, scope);
        return value !== null ? value : this.value(right, scope);
      }
      case '&&':
      case 'and':
        return toBool(this.value(left, scope)) && toBool(this.value(right, scope));
      case '||':
      case 'or':
        return toBool(this.value(left, scope)) || toBool(this.value(right, scope));
    }
    const a = this.value(left, scope);
    const b = this.value(right, scope);
    switch (type) {
      case '.':
        return toStr(a) + toStr(b);
      case '===':
        return strictEquals(a, b);
      case '!==':
        return !strictEquals(a, b);
      case '==':
        return looseEquals(a, b);
      case '!=':
      case '<>':
        return !looseEquals(a, b);
      case '<':
        return compare(a, b) < 0;
      case '<=':
        return compare(a, b) <= 0;
      case '>':
        return compare(a, b) > 0;
      case '>=':
        return compare(a, b) >= 0;
      case 'xor':
        return toBool(a) !== toBool(b);
      case '+':
        if (a instanceof PhpArray && b instanceof PhpArray) return union(a, b);
        return toArithmetic(a) + toArithmetic(b);
      case '-':
        return toArithmetic(a) - toArithmetic(b);
      case '*':
        return toArithmetic(a) * toArithmetic(b);
      case '/': {
        const divisor = toArithmetic(b);
        if (divisor === 0) throw new Unsupported('Division by zero', line(node));
        return toArithmetic(a) / divisor;
      }
      case '%': {
        const divisor = toInt(b);
        if (divisor === 0) throw new Unsupported('Modulo by zero', line(node));
        return toInt(a) % divisor;
      }
      case '**':
        return toArithmetic(a) ** toArithmetic(b);
    }
    throw new Unsupported(`the operator ${type} is not supported`, line(node));
  }

  private unary(node: Node, scope: Scope): PhpValue {
    const value = this.value(node.what as Node, scope);
    switch (node.type) {
      case '!':
        return !toBool(value);
      case '-':
        return -toArithmetic(value);
      case '+':
        return toArithmetic(value);
    }
    throw new Unsupported(`the operator ${String(node.type)} is not supported`, line(node));
  }

  private cast(node: Node, scope: Scope): PhpValue {
    const value = this.value(node.expr as Node, scope);
    switch (node.type) {
      case 'int':
        return toInt(value);
      case 'float':
        return toFloat(value);
      case 'bool':
        return toBool(value);
      case 'string':
        return toStr(value);
      case 'array':
        return value instanceof PhpArray ? value : value === null ? new PhpArray() : PhpArray.list([value]);
    }
    throw new Unsupported(`the cast ${String(node.raw)} is not supported`, line(node));
  }

  /** `fn ($x) => ...` (sees the enclosing variables) or `function ($x) { return ...; }` (sees none, as in PHP). */
  private closure(node: Node, body: Node, scope: Scope): PhpValue {
    const parameters = (node.arguments as Node[]).map((parameter) => {
      if (parameter.byref || parameter.variadic) throw new Unsupported('reference or variadic parameters are not supported', line(parameter));
      return { name: String((parameter.name as Node).name), fallback: parameter.value as Node | null };
    });
    const outer: Scope = node.kind === 'arrowfunc' ? scope : new Map();
    return {
      call: (args) => {
        const inner: Scope = new Map(outer);
        parameters.forEach(({ name, fallback }, index) => {
          if (index < args.length) inner.set(name, args[index]!);
          else if (fallback) inner.set(name, this.value(fallback, outer));
          else throw new Unsupported(`too few arguments to the closure (missing $${name})`, line(node));
        });
        return this.value(body, inner);
      },
    };
  }
}

/** The expression of a closure whose body is a single `return` statement. */
function closureBody(node: Node): Node {
  const statements = ((node.body as Node | null)?.children ?? []) as Node[];
  const uses = (node.uses ?? []) as Node[];
  if (uses.length > 0 || statements.length !== 1 || statements[0]!.kind !== 'return' || !statements[0]!.expr) {
    throw new Unsupported('a closure other than `function (...) { return ...; }` is not supported', line(node));
  }
  return statements[0]!.expr as Node;
}

/** PHP's `+` on arrays: the left one, plus the right one's keys it lacks. */
function union(a: PhpArray, b: PhpArray): PhpArray {
  const out = new PhpArray();
  for (const [key, value] of a.entries) out.set(key, value);
  for (const [key, value] of b.entries) if (!out.entries.has(key)) out.set(key, value);
  return out;
}

/** PHP integer and float literals: 10_000, 0x1F, 0b101, 0o17 / 017, 1.5e3. */
function parseNumber(raw: string): number {
  const text = raw.replace(/_/g, '');
  if (/^0[xX]/.test(text)) return parseInt(text.slice(2), 16);
  if (/^0[bB]/.test(text)) return parseInt(text.slice(2), 2);
  if (/^0[oO]/.test(text)) return parseInt(text.slice(2), 8);
  if (/^0\d+$/.test(text)) return parseInt(text.slice(1), 8);
  return Number(text);
}

function line(node: Node): number | undefined {
  return node.loc?.start.line;
}

/** `Str::slug`, `PDO::MYSQL_ATTR_SSL_CA`. */
function staticName(node: Node): string {
  return `${String((node.what as Node).name)}::${String((node.offset as Node).name)}`;
}

const NAMES: Readonly<Record<string, string>> = {
  new: 'creating an object (new)',
  propertylookup: 'a property or method access (->)',
  nullsafepropertylookup: 'a property or method access (?->)',
  assign: 'an assignment',
  match: 'a match expression',
  include: 'include / require',
  if: 'an if statement',
  function: 'a function declaration',
  class: 'a class declaration',
  echo: 'echo',
  expressionstatement: 'a statement',
};

function describe(node: Node): string {
  return NAMES[node.kind] ?? `the PHP construct "${node.kind}"`;
}

/** Reads `file` and returns what its `return` statement gives, as json_encode would write it. */
export function evaluatePhpConfig(file: string, options: EvaluateOptions): unknown {
  const where = (lineNumber: number | undefined) => (lineNumber ? `${options.displayName}:${lineNumber}` : options.displayName);
  let program: Node;
  try {
    program = parser.parseCode(readFileSync(file, 'utf8'), file) as unknown as Node;
  } catch (error) {
    const { message, lineNumber } = error as Error & { lineNumber?: number };
    throw new ConfigError(`${where(lineNumber)}: PHP syntax error: ${message.replace(/^Parse Error : /, '').replace(/ on line \d+$/, '')}`);
  }
  try {
    return new Evaluator(options, file).run(program);
  } catch (error) {
    if (!(error instanceof Unsupported)) throw error;
    throw new ConfigError(
      `${where(error.line)}: ${error.message} (the file was read without PHP: install php-cli so that PHP evaluates it, or keep to the constructs listed in docs/configuration.md)`,
    );
  }
}
