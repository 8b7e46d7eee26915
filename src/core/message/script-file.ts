import { readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { LineCounter, isMap, isNode, parseDocument, type Document } from 'yaml';
import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';
import { checkDuration, parseDuration } from '../clock.js';
import { NetnoteError } from '../errors.js';
import { readInput } from '../files.js';
import type { Action, Rule, ServerPlan } from './answer.js';
import type { ClientScript, Step } from './conversation.js';
import { parseFrame, type FrameSpec } from './frame.js';
import type { Matcher } from './match.js';
import { parseHex } from './payload.js';
import { compileTemplate, literal, type Template } from './template.js';

// Script files (docs/scripts.md): YAML read by the `yaml` package, which knows where each node
// is, checked by a zod schema, then compiled once (templates, regexes, durations). Every error
// names the file, line and column.

type Path = Array<string | number>;

// zod/mini: the same checks in a tenth of the size (this file is loaded only for --script), with
// the English messages only.
z.config(en());

// ---------------------------------------------------------------------------------------------
// The schema: what a script may say. Strings stand for the most common form (`send: "AT\r\n"`).

const duration = z.union([z.number().check(z.gte(0)), z.string()]);

/** A plain string stands for its most common form: `send: "AT\r"` is `send: { text: "AT\r" }`. */
function orText<T extends z.ZodMiniType>(schema: T) {
  return z.pipe(z.transform((v: unknown) => (typeof v === 'string' ? { text: v } : v)), schema);
}

const payload = orText(z.strictObject({
  text: z.optional(z.string()),
  hex: z.optional(z.string()),
  file: z.optional(z.string()),
}).check(exactlyOne(['text', 'hex', 'file'], 'a payload')));

const payloads = z.union([payload, z.array(payload)]);

const MATCH_KEYS = ['text', 'hex', 'prefix', 'hex-prefix', 'regex', 'regex-hex'] as const;
const matchFields = {
  text: z.optional(z.string()),
  hex: z.optional(z.string()),
  prefix: z.optional(z.string()),
  'hex-prefix': z.optional(z.string()),
  regex: z.optional(z.string()),
  'regex-hex': z.optional(z.string()),
};

const expectation = orText(z.strictObject({
  ...matchFields,
  timeout: z.optional(duration),
}).check(exactlyOne([...MATCH_KEYS], 'an expectation')));

const ACTIONS = ['send', 'expect', 'sleep', 'repeat', 'close'] as const;

interface StepInput {
  name?: string | undefined;
  send?: z.infer<typeof payload> | undefined;
  expect?: z.infer<typeof expectation> | undefined;
  sleep?: string | number | undefined;
  repeat?: number | 'forever' | undefined;
  steps?: StepInput[] | undefined;
  close?: true | undefined;
}

const step: z.ZodMiniType<StepInput> = z.lazy(() => z.pipe(z.transform((v: unknown) => (v === 'close' ? { close: true } : v)), z.strictObject({
  name: z.optional(z.string()),
  send: z.optional(payload),
  expect: z.optional(expectation),
  sleep: z.optional(duration),
  repeat: z.optional(z.union([z.int().check(z.positive()), z.literal('forever')])),
  steps: z.optional(z.array(step)),
  close: z.optional(z.literal(true)),
}).check(exactlyOne([...ACTIONS], 'a step'), z.superRefine((value, ctx) => {
  if (value.repeat !== undefined && value.steps === undefined) ctx.addIssue({ code: 'custom', message: 'repeat needs its steps:', path: ['repeat'] });
  if (value.steps !== undefined && value.repeat === undefined) ctx.addIssue({ code: 'custom', message: 'steps: belongs to a repeat', path: ['steps'] });
}))));

const clientFile = z.strictObject({
  frame: z.optional(z.string()),
  timeout: z.optional(duration),
  steps: z.array(step).check(z.minLength(1)),
});

const rule = z.strictObject({
  match: z.optional(z.pipe(z.transform((v: unknown) => (typeof v === 'string' && v !== 'any' ? { text: v } : v)),
    z.union([z.literal('any'), z.strictObject(matchFields).check(exactlyOne([...MATCH_KEYS], 'a match'))]))),
  reply: z.optional(z.union([z.literal('echo'), payloads])),
  action: z.optional(z.enum(['close', 'reset', 'silence'])),
  delay: z.optional(duration),
});

const serverFile = z.strictObject({
  frame: z.optional(z.string()),
  greeting: z.optional(payloads),
  rules: z.optional(z.array(rule)),
  every: z.optional(z.strictObject({ interval: duration, send: payloads })),
  default: z.optional(z.union([z.enum(['echo', 'none']), payloads])),
});

function exactlyOne(keys: readonly string[], what: string) {
  return z.superRefine((value: object, ctx) => {
    const given = keys.filter((key) => (value as Record<string, unknown>)[key] !== undefined);
    if (given.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        message: given.length === 0 ? `${what} needs one of ${keys.join(', ')}` : `${what} takes one of ${given.join(', ')}, not several`,
      });
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Reading: YAML → checked value, with positions for every error.

class ScriptSource {
  readonly lines = new LineCounter();
  readonly doc: Document;

  constructor(readonly path: string, text: string) {
    this.doc = parseDocument(text, { lineCounter: this.lines, prettyErrors: false });
  }

  /** `file:line:col` of the node at `path` (or of the key `key` in it), or of its nearest parent. */
  at(path: Path, key?: string): string {
    for (let depth = path.length; depth >= 0; depth--) {
      const node = this.doc.getIn(path.slice(0, depth), true);
      if (!isNode(node)) continue;
      let offset = node.range?.[0];
      if (key !== undefined && depth === path.length && isMap(node)) {
        const pair = node.items.find((p) => isNode(p.key) && (p.key as { value?: unknown }).value === key);
        if (pair && isNode(pair.key)) offset = pair.key.range?.[0] ?? offset;
      }
      if (offset !== undefined) {
        const { line, col } = this.lines.linePos(offset);
        return `${this.path}:${line}:${col}`;
      }
    }
    return `${this.path}:1:1`;
  }

  error(path: Path, message: string, key?: string, hint?: string): NetnoteError {
    const where = path.length ? `${pathText(path)}: ` : '';
    return new NetnoteError('usage', `${this.at(path, key)}: ${where}${message}`, hint);
  }

  /** The document checked against `schema`; the first problem is a usage error at its place. */
  check<T>(schema: z.ZodMiniType<T>, kind: 'client' | 'server'): T {
    const [syntax] = this.doc.errors;
    if (syntax) {
      const pos = syntax.linePos?.[0];
      throw new NetnoteError('usage', `${this.path}:${pos?.line ?? 1}:${pos?.col ?? 1}: ${syntax.message.split('\n')[0]}`);
    }
    const result = z.safeParse(schema, this.doc.toJS() ?? {});
    if (result.success) return result.data;
    // A misspelt key also makes a required one missing: the misspelling is the one to report.
    const issue = result.error.issues.find((i) => i.code === 'unrecognized_keys') ?? result.error.issues[0]!;
    const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
    if (issue.code === 'unrecognized_keys') {
      const [key] = issue.keys;
      const other = kind === 'client' ? ['rules', 'greeting', 'every', 'default'] : ['steps'];
      const hint = path.length === 0 && other.includes(key!)
        ? `${key}: is for a ${kind === 'client' ? 'server' : 'client'} script (docs/scripts.md)` : undefined;
      throw this.error(path, `unknown key '${key}'`, key, hint);
    }
    throw this.error(path, issue.message);
  }

  /** Runs `compile`; a usage error it throws is placed at `path`. */
  compile<T>(path: Path, compile: () => T): T {
    try {
      return compile();
    } catch (err) {
      if (err instanceof NetnoteError && err.code === 'usage') throw this.error(path, err.message, undefined, err.hint);
      throw err;
    }
  }
}

function pathText(path: Path): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

/** A script is a page or two of YAML: far less than this. */
const MAX_SCRIPT = 16 * 1024 * 1024;

/** The script, from a file, a FIFO or `<(…)`, read so that a signal stops the wait. */
async function read(path: string, signal: AbortSignal): Promise<ScriptSource> {
  const text = await readInput({ path, option: '--script' }, MAX_SCRIPT, signal);
  if (!text) throw new NetnoteError('usage', `--script ${path} is more than ${MAX_SCRIPT / 1024 / 1024} MiB: not a script`);
  return new ScriptSource(path, text.toString('utf8'));
}

// ---------------------------------------------------------------------------------------------
// Compiling: templates parsed once, regexes built, durations in ms, files read.

function compilePayload(source: ScriptSource, path: Path, value: z.infer<typeof payload>, what: string): Template {
  return source.compile(path, () => {
    if (value.hex !== undefined) return compileTemplate(value.hex, 'hex', what);
    if (value.text !== undefined) return compileTemplate(value.text, 'text', what);
    const file = resolve(dirname(source.path), value.file!);
    let bytes: Buffer;
    try {
      // Read at once, as the script compiles: a FIFO or a device, which could wait for ever, is refused.
      if (!statSync(file).isFile()) throw new NetnoteError('usage', `cannot read file ${file}: not a regular file`);
      bytes = readFileSync(file);
    } catch (err) {
      if (err instanceof NetnoteError) throw err;
      throw new NetnoteError('usage', `cannot read file ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
    return literal(bytes);
  });
}

function compilePayloads(source: ScriptSource, path: Path, value: z.infer<typeof payloads>, what: string): Template[] {
  return Array.isArray(value) ? value.map((p, i) => compilePayload(source, [...path, i], p, what)) : [compilePayload(source, path, value, what)];
}

function compileMatcher(source: ScriptSource, path: Path, value: Partial<Record<(typeof MATCH_KEYS)[number], string>>): Matcher {
  const [key, text] = Object.entries(value).find(([k, v]) => (MATCH_KEYS as readonly string[]).includes(k) && v !== undefined)! as [(typeof MATCH_KEYS)[number], string];
  return source.compile([...path, key], (): Matcher => {
    switch (key) {
      case 'text': return { kind: 'bytes', bytes: Buffer.from(text, 'utf8') };
      case 'hex': return { kind: 'bytes', bytes: parseHex(text) };
      case 'prefix': return { kind: 'prefix', bytes: Buffer.from(text, 'utf8') };
      case 'hex-prefix': return { kind: 'prefix', bytes: parseHex(text) };
      case 'regex': return { kind: 'regex', pattern: regex(text, '') };
      // The message's hex is lower case and has no spaces; the pattern may have both, as hex: does.
      case 'regex-hex': return { kind: 'regex-hex', pattern: regex(text.replace(/\s+/g, ''), 'i') };
    }
  });
}

function regex(text: string, flags: string): RegExp {
  try {
    return new RegExp(text, flags);
  } catch (err) {
    throw new NetnoteError('usage', `the regex cannot compile: ${(err as Error).message}`);
  }
}

function compileDuration(source: ScriptSource, path: Path, value: string | number): number {
  return source.compile(path, () => (typeof value === 'number' ? checkDuration(value * 1000, String(value)) : parseDuration(value)));
}

function compileFrame(source: ScriptSource, value: string | undefined): FrameSpec | null {
  return value === undefined ? null : source.compile(['frame'], () => parseFrame(value));
}

/** A client script: the steps of tcp-client / udp-client --script. */
export async function loadClientScript(path: string, signal: AbortSignal): Promise<ClientScript> {
  const source = await read(path, signal);
  const file = source.check(clientFile, 'client');
  const steps = (inputs: StepInput[], at: Path, prefix: string): Step[] => inputs.map((input, i): Step => {
    const where = [...at, i];
    const base = { path: `${prefix}${i + 1}`, label: input.name ?? null };
    if (input.send !== undefined) return { ...base, kind: 'send', payload: compilePayload(source, [...where, 'send'], input.send, 'send') };
    if (input.expect !== undefined) {
      const { timeout } = input.expect;
      return {
        ...base, kind: 'expect', match: compileMatcher(source, [...where, 'expect'], input.expect),
        timeoutMs: timeout === undefined ? null : compileDuration(source, [...where, 'expect', 'timeout'], timeout),
      };
    }
    if (input.sleep !== undefined) return { ...base, kind: 'sleep', ms: compileDuration(source, [...where, 'sleep'], input.sleep) };
    if (input.repeat !== undefined) {
      return { ...base, kind: 'repeat', times: input.repeat === 'forever' ? null : input.repeat, steps: steps(input.steps!, [...where, 'steps'], `${base.path}.`) };
    }
    return { ...base, kind: 'close' };
  });
  return {
    frame: compileFrame(source, file.frame),
    timeoutMs: file.timeout === undefined ? null : compileDuration(source, ['timeout'], file.timeout),
    steps: steps(file.steps, ['steps'], ''),
  };
}

/** A server script: the rules, greeting and pushes of tcp-server / udp-server --script. */
export async function loadServerScript(path: string, signal: AbortSignal): Promise<{ plan: ServerPlan; frame: FrameSpec | null }> {
  const source = await read(path, signal);
  const file = source.check(serverFile, 'server');
  const rules = (file.rules ?? []).map((input, i): Rule => {
    const at: Path = ['rules', i];
    return {
      number: i + 1,
      match: input.match === undefined || input.match === 'any' ? { kind: 'any' } : compileMatcher(source, [...at, 'match'], input.match),
      reply: input.reply === undefined ? [] : input.reply === 'echo' ? 'echo' : compilePayloads(source, [...at, 'reply'], input.reply, `rule ${i + 1} reply`),
      delayMs: input.delay === undefined ? 0 : compileDuration(source, [...at, 'delay'], input.delay),
      action: (input.action ?? null) as Action | null,
    };
  });
  const fallback = file.default === undefined || file.default === 'echo' ? 'echo'
    : file.default === 'none' ? 'none' : compilePayloads(source, ['default'], file.default, 'default');
  const every = file.every;
  const intervalMs = every ? compileDuration(source, ['every', 'interval'], every.interval) : 0;
  if (every && intervalMs === 0) throw source.error(['every', 'interval'], 'the interval must be more than 0');
  return {
    plan: {
      greeting: file.greeting === undefined ? [] : compilePayloads(source, ['greeting'], file.greeting, 'greeting'),
      rules,
      fallback,
      push: every ? { intervalMs, send: compilePayloads(source, ['every', 'send'], every.send, 'every.send') } : null,
    },
    frame: compileFrame(source, file.frame),
  };
}
