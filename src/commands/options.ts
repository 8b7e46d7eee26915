import { InvalidArgumentError, Option, type Command } from 'commander';
import { parseAddressPort, parseHost, parsePort, parseRemotePort } from '../core/socket/address.js';
import type { LocalSpec } from '../core/socket/local.js';
import { parseDuration } from '../core/clock.js';
import { NetnoteError } from '../core/errors.js';
import { parseFrame } from '../core/message/frame.js';
import { NOTE_PAYLOAD, parseHex, type PayloadSpec } from '../core/message/payload.js';
import type { ReplyRule } from '../core/message/reply.js';
import { compileTemplate, type Template } from '../core/message/template.js';

// Options are parsed once, here, into typed values; commander reports a bad one as a usage error.

/** Wraps a parser that throws NetnoteError so commander prints its message and exits 2. */
export function arg<T>(parse: (input: string, previous: T) => T): (input: string, previous: T) => T {
  return (input, previous) => {
    try {
      return parse(input, previous);
    } catch (err) {
      throw new InvalidArgumentError(err instanceof Error ? err.message : String(err));
    }
  };
}

export const hostArg = arg(parseHost);
export const portArg = arg(parsePort);
export const remotePortArg = arg(parseRemotePort);

function parseCount(input: string): number {
  if (!/^\d+$/.test(input.trim()) || Number(input) < 1 || !Number.isSafeInteger(Number(input))) {
    throw new NetnoteError('usage', `invalid number '${input}': expected a whole number of at least 1`);
  }
  return Number(input);
}

export const durationArg = arg(parseDuration);
export const countArg = arg(parseCount);

export const frameArg = arg(parseFrame);

export interface PayloadOptions {
  data?: string;
  /** As typed: parsed as hex, or compiled as a hex template with --template. */
  hex?: string;
  file?: string;
  size?: number;
}

export function addPayloadOptions(command: Command): Command {
  const others = (self: string) => ['data', 'hex', 'file', 'size'].filter((name) => name !== self);
  return command
    .addOption(new Option('--data <text>', `payload as text (default: the note's ${NOTE_PAYLOAD})`).conflicts(others('data')))
    .addOption(new Option('--hex <hex>', "payload as hex bytes, e.g. '01 03 00 00'").conflicts(others('hex')))
    .addOption(new Option('--file <path>', 'payload from a file (- for stdin)').conflicts(others('file')))
    .addOption(new Option('--size <bytes>', 'generated payload of this many bytes').argParser(countArg).conflicts(others('size')));
}

export function payloadSpec(options: PayloadOptions): PayloadSpec {
  if (options.hex !== undefined) return { kind: 'bytes', bytes: parseHex(options.hex) };
  if (options.file !== undefined) return { kind: 'file', path: options.file };
  if (options.size !== undefined) return { kind: 'size', size: options.size };
  return { kind: 'bytes', bytes: Buffer.from(options.data ?? NOTE_PAYLOAD, 'utf8') };
}

/** --template: placeholders in --data or --hex, expanded per message (docs/scripts.md). */
export function addTemplateOption(command: Command, applies: string): Command {
  return command.addOption(new Option('--template', `expand placeholders such as {seq}, {seq:u16be}, {crc16-modbus} in ${applies} (docs/scripts.md)`));
}

/** The payload as a template, with --template; null without it (today's literal payloads). */
export function payloadTemplate(options: PayloadOptions & { template?: boolean }): Template | null {
  if (!options.template) return null;
  if (options.file !== undefined || options.size !== undefined) throw new NetnoteError('usage', '--template applies to --data and --hex, not to --file or --size');
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
  const loop = ['data', 'hex', 'file', 'size', 'template', 'count', 'wait', 'expect', 'expectHex', 'expectRegex', 'verifyEcho'];
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
}

export function addExchangeOptions(command: Command, help: { count: string; timeout: string }): Command {
  const checks = (self: string) => ['expect', 'expectHex', 'expectRegex', 'verifyEcho'].filter((name) => name !== self);
  return command
    .addOption(new Option('-c, --count <n>', help.count).argParser(countArg))
    .addOption(new Option('-i, --interval <duration>', 'pause before each next message; 0 = back to back').argParser(durationArg).default(1000, '1s'))
    .addOption(new Option('-w, --timeout <duration>', help.timeout).argParser(durationArg))
    .addOption(new Option('--no-wait', 'send on schedule without waiting for replies'))
    .addOption(new Option('--expect <text>', 'each reply must be exactly this text (exit 1 if not)').conflicts(checks('expect')))
    .addOption(new Option('--expect-hex <hex>', 'each reply must be exactly these bytes').argParser(arg(parseHex)).conflicts(checks('expectHex')))
    .addOption(new Option('--expect-regex <re>', 'each reply must match this regular expression').argParser(arg(parseRegex)).conflicts(checks('expectRegex')))
    .addOption(new Option('--verify-echo', 'each reply must equal what was sent').conflicts(checks('verifyEcho')));
}

function parseRegex(input: string): RegExp {
  try {
    return new RegExp(input);
  } catch (err) {
    throw new NetnoteError('usage', `invalid --expect-regex: ${(err as Error).message}`);
  }
}

export function replyRule(options: ExchangeOptions): ReplyRule {
  if (options.expect !== undefined) return { kind: 'bytes', expected: Buffer.from(options.expect, 'utf8') };
  if (options.expectHex !== undefined) return { kind: 'bytes', expected: options.expectHex };
  if (options.expectRegex !== undefined) return { kind: 'regex', pattern: options.expectRegex };
  return { kind: 'echo', verify: options.verifyEcho === true };
}

/** `1`, `0.5`, `2.5%`: a percentage from 0 to 100. */
function parsePercent(input: string): number {
  const match = /^(\d+(?:\.\d+)?)%?$/.exec(input.trim());
  if (!match || Number(match[1]) > 100) throw new NetnoteError('usage', `invalid percentage '${input}': expected 0 to 100, e.g. 1 or 2.5%`);
  return Number(match[1]);
}

export const percentArg = arg(parsePercent);

export interface LocalOptions {
  bind?: { address: string; port: number };
  interface?: string;
  reuseAddress?: boolean;
}

/** The note's multi-NIC options, the same on every client. */
export function addLocalOptions(command: Command): Command {
  return command
    .addOption(new Option('-b, --bind <addr[:port]>', 'bind this local address (and port; 0 = any) before connecting: choose the NIC').argParser(arg(parseBind)).conflicts('interface'))
    .addOption(new Option('-I, --interface <name>', "bind the address of this NIC (its first of the destination's family)"))
    .addOption(new Option('--reuse-address', 'SO_REUSEADDR on the local port (always on for TCP: libuv sets it)'));
}

function parseBind(input: string): { address: string; port: number } {
  const parsed = parseAddressPort(input, 0);
  if (!parsed) throw new NetnoteError('usage', `invalid --bind '${input}': expected ADDR or ADDR:PORT, e.g. 192.0.2.10 or [2001:db8::10]:5000`);
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
