import { Option, type Command } from 'commander';
import { parseAddressPort } from '../core/socket/address.js';
import { parseKeepalive, type Keepalive } from '../core/socket/keepalive.js';
import type { LocalSpec } from '../core/socket/local.js';
import { parseDuration } from '../core/clock.js';
import { InvalidValueError, NetnoteError } from '../core/errors.js';
import { parseFrame } from '../core/message/frame.js';
import { NOTE_PAYLOAD, parseHex, type PayloadSpec } from '../core/message/payload.js';
import type { ReplyRule } from '../core/message/reply.js';
import { compileTemplate, type Template } from '../core/message/template.js';
import type { Check } from '../report/junit/checks.js';
import { pythonBytes } from '../report/bytes.js';
import { either, needs, notWith } from '../shell/usage.js';

// Options are parsed once, here, into typed values. A parser throws InvalidValueError; the command
// line names the option it came from (shell/usage.ts) and exits 2.

/** `500ms`, `1s`, `2m`, `1m30s`…: see core/clock.ts. */
export const durationArg = parseDuration;

/** --keepalive DUR: whole seconds, as the kernel takes them (core/socket/keepalive.ts). */
export function keepaliveArg(input: string): Keepalive {
  return parseKeepalive(input, parseDuration(input));
}

/** The --keepalive help, the same on both ends: it says what libuv sets besides the idle time. */
export const KEEPALIVE_HELP = 'SO_KEEPALIVE: a probe after this long idle (whole seconds), then one every 1 s; 10 unanswered probes end the connection (libuv sets TCP_KEEPINTVL 1 s and TCP_KEEPCNT 10)';

export function countArg(input: string): number {
  if (!/^\d+$/.test(input.trim()) || Number(input) < 1 || !Number.isSafeInteger(Number(input))) {
    throw new InvalidValueError('number', input, 'expected a whole number of at least 1');
  }
  return Number(input);
}

export const frameArg = parseFrame;

/** The payload options, as commander's keys (for conflicts()). */
export const PAYLOAD_OPTIONS = ['data', 'hex', 'file', 'size'];
/** The checks on each reply, as commander's keys. */
export const REPLY_OPTIONS = ['expect', 'expectHex', 'expectRegex', 'verifyEcho'];

export interface PayloadOptions {
  data?: string;
  /** As typed: parsed as hex, or compiled as a hex template with --template. */
  hex?: string;
  file?: string;
  size?: number;
}

export function addPayloadOptions(command: Command): Command {
  const others = (self: string) => PAYLOAD_OPTIONS.filter((name) => name !== self);
  return command
    .addOption(new Option('--data <text>', `payload as text (default: the note's ${NOTE_PAYLOAD})`).conflicts(others('data')))
    .addOption(new Option('--hex <hex>', "payload as hex bytes, e.g. '01 03 00 00'").argParser(hexArg).conflicts(others('hex')))
    .addOption(new Option('--file <path>', 'payload from a file (- for stdin)').conflicts(others('file')))
    .addOption(new Option('--size <bytes>', 'generated payload of this many bytes').argParser(countArg).conflicts(others('size')));
}

/** --hex as typed: checked at once, unless it holds placeholders, which only --template expands. */
function hexArg(input: string): string {
  if (!input.includes('{')) parseHex(input);
  return input;
}

export function payloadSpec(options: PayloadOptions): PayloadSpec {
  if (options.hex?.includes('{')) {
    throw new NetnoteError('usage', `invalid --hex '${options.hex}': placeholders such as {seq} need --template`);
  }
  if (options.hex !== undefined) return { kind: 'bytes', bytes: parseHex(options.hex) };
  if (options.file !== undefined) return { kind: 'file', path: options.file };
  if (options.size !== undefined) return { kind: 'size', size: options.size };
  return { kind: 'bytes', bytes: Buffer.from(options.data ?? NOTE_PAYLOAD, 'utf8') };
}

/** --template: placeholders in --data or --hex, expanded per message (docs/scripts.md). */
/** --template, for the payload options it expands (`--data`, `--hex`, `--heartbeat-data`…): it does nothing without one. */
export function addTemplateOption(command: Command, ...payloads: string[]): Command {
  return command.addOption(needs(new Option('--template', `expand placeholders such as {seq}, {seq:u16be}, {crc16-modbus} in ${either(payloads)} (docs/scripts.md)`), ...payloads));
}

/** The payload as a template, with --template; null without it (today's literal payloads). */
export function payloadTemplate(options: PayloadOptions & { template?: boolean }): Template | null {
  if (!options.template) return null;
  if (options.hex !== undefined) return compileTemplate(options.hex, 'hex', '--hex');
  return compileTemplate(options.data ?? NOTE_PAYLOAD, 'text', '--data');
}

/**
 * The script-file reader, loaded when a --script is given: YAML and the schema library are most
 * of the bundle, and every other run (and --help) starts faster without evaluating them.
 */
export function loadScriptFile(): Promise<typeof import('../core/message/script-file.js')> {
  return import('../core/message/script-file.js');
}

/** --script on a client: the steps of a YAML file instead of the note's loop. */
export function addScriptOption(command: Command): Command {
  const loop = [...PAYLOAD_OPTIONS, 'template', 'count', 'interval', 'wait', ...REPLY_OPTIONS];
  return command.addOption(new Option('--script <file>', 'run the send/expect/sleep/repeat steps of this YAML file (docs/scripts.md)').conflicts(loop));
}

export interface ExchangeOptions {
  count?: number;
  interval: number;
  timeout?: number;
  wait: boolean;
  expect?: string;
  expectHex?: Buffer;
  expectRegex?: RegExp;
  verifyEcho?: boolean;
  chart?: boolean;
}

export function addExchangeOptions(command: Command, help: { count: string; timeout: string }): Command {
  const checks = (self: string) => REPLY_OPTIONS.filter((name) => name !== self);
  return command
    .addOption(new Option('-c, --count <n>', help.count).argParser(countArg))
    .addOption(new Option('-i, --interval <duration>', 'pause before each next message; 0 = back to back').argParser(durationArg).default(1000, '1s'))
    .addOption(new Option('-w, --timeout <duration>', help.timeout).argParser(durationArg))
    .addOption(new Option('--no-wait', 'send on schedule without waiting for replies'))
    .addOption(new Option('--expect <text>', 'each reply must be exactly this text (exit 1 if not)').conflicts(checks('expect')))
    .addOption(new Option('--expect-hex <hex>', 'each reply must be exactly these bytes').argParser(parseHex).conflicts(checks('expectHex')))
    .addOption(new Option('--expect-regex <re>', 'each reply must match this regular expression').argParser(parseRegex).conflicts(checks('expectRegex')))
    .addOption(new Option('--verify-echo', 'each reply must equal what was sent').conflicts(checks('verifyEcho')))
    .addOption(notWith(new Option('--chart', 'draw the round-trip time distribution in the summary, also into a file or a pipe'), '--json'));
}

function parseRegex(input: string): RegExp {
  try {
    return new RegExp(input);
  } catch (err) {
    throw new InvalidValueError('regular expression', input, (err as Error).message.replace(/^Invalid regular expression: \/.*\/\w*: /, ''));
  }
}

export function replyRule(options: ExchangeOptions): ReplyRule {
  if (options.expect !== undefined) return { kind: 'bytes', expected: Buffer.from(options.expect, 'utf8') };
  if (options.expectHex !== undefined) return { kind: 'bytes', expected: options.expectHex };
  if (options.expectRegex !== undefined) return { kind: 'regex', pattern: options.expectRegex };
  return { kind: 'echo', verify: options.verifyEcho === true };
}

/** The reply check the options ask for, as a JUnit test case (none for a plain echo run). */
/** --script: each expect step the script runs is a JUnit case of its own (report/junit/checks.ts). */
export function scriptChecks(options: { script?: string }): Check[] {
  return options.script === undefined ? [] : [{ name: `--script ${options.script}`, decidedBy: 'script' }];
}

export function replyChecks(options: ExchangeOptions): Check[] {
  if (options.expect !== undefined) return [{ name: `--expect ${pythonBytes(Buffer.from(options.expect, 'utf8'))}`, decidedBy: 'reply' }];
  if (options.expectHex !== undefined) return [{ name: `--expect-hex ${options.expectHex.toString('hex').replace(/(..)(?!$)/g, '$1 ')}`, decidedBy: 'reply' }];
  if (options.expectRegex !== undefined) return [{ name: `--expect-regex /${options.expectRegex.source}/`, decidedBy: 'reply' }];
  return options.verifyEcho ? [{ name: '--verify-echo', decidedBy: 'reply' }] : [];
}

/** `1`, `0.5`, `2.5%`: a percentage from 0 to 100. */
export function percentArg(input: string): number {
  const match = /^(\d+(?:\.\d+)?)%?$/.exec(input.trim());
  if (!match || Number(match[1]) > 100) throw new InvalidValueError('percentage', input, 'expected 0 to 100, e.g. 1 or 2.5%');
  return Number(match[1]);
}

export interface LocalOptions {
  bind?: { address: string; port: number };
  interface?: string;
  reuseAddress?: boolean;
}

/** The note's multi-NIC options, the same on every client. */
export function addLocalOptions(command: Command): Command {
  return command
    .addOption(new Option('-b, --bind <addr[:port]>', 'bind this local address (and port; 0 = any) before connecting: choose the NIC').argParser(parseBind).conflicts('interface'))
    .addOption(new Option('-I, --interface <name>', "bind the address of this NIC (its first of the destination's family)"))
    .addOption(new Option('--reuse-address', 'SO_REUSEADDR on the local port (always on for TCP: libuv sets it)'));
}

function parseBind(input: string): { address: string; port: number } {
  const parsed = parseAddressPort(input, 0);
  if (!parsed) throw new InvalidValueError('address', input, 'expected ADDR or ADDR:PORT, e.g. 192.0.2.10 or [2001:db8::10]:5000');
  return parsed;
}

export function localSpec(options: LocalOptions): LocalSpec | null {
  if (!options.bind && options.interface === undefined && !options.reuseAddress) return null;
  return {
    address: options.bind?.address ?? null,
    interface: options.interface ?? null,
    port: options.bind?.port ?? 0,
    reuseAddress: options.reuseAddress === true,
  };
}
