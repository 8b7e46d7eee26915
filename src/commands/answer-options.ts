import { Option, type Command } from 'commander';
import { NetnoteError } from '../core/errors.js';
import type { ServerPlan } from '../core/message/answer.js';
import { parseHex } from '../core/message/payload.js';
import { compileTemplate, literal, type Template } from '../core/message/template.js';
import type { FrameSpec } from '../core/message/frame.js';
import { needs } from '../shell/usage.js';
import { durationArg, loadScriptFile } from './options.js';

// The options that make a server answer instead of echoing, the same on tcp-server and udp-server.

export interface AnswerOptions {
  reply?: string;
  replyHex?: string;
  greeting?: string;
  greetingHex?: string;
  push?: string;
  pushHex?: string;
  every?: number;
  script?: string;
  template?: boolean;
}

export function addAnswerOptions(command: Command, proto: 'tcp' | 'udp'): Command {
  const scripted = ['reply', 'replyHex', 'greeting', 'greetingHex', 'push', 'pushHex', 'every', 'template'];
  command
    .addOption(new Option('--reply <text>', 'answer every message with this text instead of the echo').conflicts(['replyHex', 'sink']))
    .addOption(new Option('--reply-hex <hex>', 'answer every message with these bytes').conflicts(['sink']));
  if (proto === 'tcp') {
    command
      .addOption(new Option('--greeting <text>', 'send this to each client on accept (a banner, a command)').conflicts(['greetingHex']))
      .addOption(new Option('--greeting-hex <hex>', 'send these bytes to each client on accept'));
  }
  return command
    .addOption(needs(new Option('--push <text>', `send this to every ${proto === 'tcp' ? 'connected client' : 'peer heard within --peer-ttl'} every --every`).conflicts(['pushHex']), '--every'))
    .addOption(needs(new Option('--push-hex <hex>', 'the same, as bytes'), '--every'))
    .addOption(needs(new Option('--every <duration>', 'how often --push is sent').argParser(durationArg), '--push', '--push-hex'))
    .addOption(needs(new Option('--template', `expand placeholders such as {seq}, {seq:u16be}, {crc16-modbus} in --reply${proto === 'tcp' ? ', --greeting' : ''} and --push (docs/scripts.md)`),
      ...['--reply', '--reply-hex', ...(proto === 'tcp' ? ['--greeting', '--greeting-hex'] : []), '--push', '--push-hex']))
    .addOption(new Option('--script <file>', 'answer by the rules of this YAML file (docs/scripts.md)').conflicts([...scripted, 'sink']));
}

/** How the server answers, from its options; null: the note's echo (or --sink). */
export async function answerPlan(options: AnswerOptions, signal: AbortSignal): Promise<{ plan: ServerPlan | null; frame: FrameSpec | null }> {
  if (options.script !== undefined) return (await loadScriptFile()).loadServerScript(options.script, signal);
  const payload = (text: string | undefined, hex: string | undefined, name: string): Template[] => {
    if (hex !== undefined) return [options.template ? compileTemplate(hex, 'hex', `--${name}-hex`) : literal(parseHex(hex))];
    if (text !== undefined) return [options.template ? compileTemplate(text, 'text', `--${name}`) : literal(Buffer.from(text, 'utf8'))];
    return [];
  };
  const reply = payload(options.reply, options.replyHex, 'reply');
  const greeting = payload(options.greeting, options.greetingHex, 'greeting');
  const push = payload(options.push, options.pushHex, 'push');
  if (options.every === 0) throw new NetnoteError('usage', '--every must be more than 0');
  if (reply.length === 0 && greeting.length === 0 && push.length === 0) return { plan: null, frame: null };
  return {
    plan: {
      greeting, rules: [], fallback: reply.length > 0 ? reply : 'echo',
      push: push.length > 0 ? { intervalMs: options.every!, send: push } : null,
    },
    frame: null,
  };
}
