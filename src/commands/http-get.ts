import { createWriteStream, type WriteStream } from 'node:fs';
import { Option, type Command } from 'commander';
import { parseHost, parseRemotePort } from '../core/socket/address.js';
import { InvalidValueError, NetnoteError, outputError } from '../core/errors.js';
import { openOutput } from '../core/files.js';
import { runHttpGet } from '../core/http/get.js';
import { TlsClient } from '../core/socket/tls.js';
import type { Execute } from './context.js';
import { addReconnectOptions, addWaitForOption, reconnectPolicy, type ReconnectOptions } from './link-options.js';
import { addLocalOptions, countArg, durationArg, localSpec, type LocalOptions } from './options.js';
import { notWith, repeatable } from '../shell/usage.js';
import { addTlsClientOptions, terminalPassphrase, tlsClientSpec, type TlsClientOptions } from './tls-options.js';

interface HttpGetOptions extends LocalOptions, TlsClientOptions, ReconnectOptions {
  path?: string;
  header: string[];
  method: 'GET' | 'HEAD';
  keepAlive?: boolean;
  output?: string;
  bodyOnly?: boolean;
  fail?: boolean;
  maxTime?: number;
  chunkSize: number;
  waitFor?: number;
}

interface Target {
  host: string;
  port: number;
  tls: boolean;
  path: string;
}

/** `HOST [PORT]`, or an `http://` / `https://` URL. */
function parseTarget(target: string, port: string | undefined): Target {
  if (!/^[a-z][a-z\d+.-]*:\/\//i.test(target)) {
    return { host: parseHost(target), port: port === undefined ? 80 : parseRemotePort(port), tls: false, path: '/' };
  }
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    throw new NetnoteError('usage', `invalid URL '${target}'`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new NetnoteError('usage', `unsupported scheme '${url.protocol.slice(0, -1)}' in ${target}: use http:// or https://`);
  }
  if (port !== undefined) throw new NetnoteError('usage', 'give the port inside the URL, not after it');
  const tls = url.protocol === 'https:';
  return {
    host: parseHost(url.hostname),
    port: url.port === '' ? (tls ? 443 : 80) : parseRemotePort(url.port),
    tls,
    path: `${url.pathname}${url.search}`,
  };
}

// What goes into the request line and the headers as typed: a CR or LF there would end the line
// early and start another (request splitting), so they are refused before anything connects.

function parseHeader(input: string, previous: string[] = []): string[] {
  if (!/^[!#$%&'*+.^_`|~\w-]+:/.test(input)) throw new InvalidValueError('header', input, "expected 'Name: value'");
  // RFC 9110 field values: visible characters, spaces and tabs (latin1, as node:http allows).
  if (/[^\t\x20-\x7e\x80-\xff]/.test(input)) throw new InvalidValueError('header', input, 'a header holds no control characters (CR, LF…) and only latin1');
  return [...previous, input];
}

function parsePath(input: string): string {
  if (!/^[\x21-\x7e]+$/.test(input)) throw new InvalidValueError('path', input, 'a request path holds visible ASCII only: percent-encode the rest (%20 for a space, %0D%0A for CR LF)');
  return input;
}

export function registerHttpGet(program: Command, execute: Execute): void {
  const command = program
    .command('http-get')
    .description("the note's raw HTTP GET: request built by hand, every received chunk shown, read until the server closes")
    .argument('<target>', 'host name or address, or an http:// or https:// URL')
    .argument('[port]', 'port when a host is given (default 80)');
  addLocalOptions(command);
  command
    .addOption(new Option('--path <path>', 'request path (default /, or the URL path)').argParser(parsePath))
    .addOption(repeatable(new Option('-H, --header <header>', "extra request header 'Name: value' (repeatable)").argParser(parseHeader).default([])))
    .addOption(new Option('--method <method>', 'request method').choices(['GET', 'HEAD']).default('GET'))
    .addOption(new Option('--keep-alive', 'no Connection: close; the response ends by Content-Length or chunked encoding'))
    .addOption(new Option('-o, --output <file>', 'write the body (chunked encoding undone) to a file').conflicts('bodyOnly'))
    .addOption(notWith(new Option('--body-only', 'print only the body on stdout, as curl does'), '--json'))
    .addOption(new Option('--fail', 'exit 1 when the status is 400 or more'))
    .addOption(new Option('-m, --max-time <duration>', 'bound on the whole exchange (exit 5)').argParser(durationArg))
    .addOption(new Option('--chunk-size <bytes>', "show received bytes in pieces of at most this size (the note's recv(1024))").argParser(countArg).default(1024));
  addWaitForOption(command);
  addReconnectOptions(command, 'the connection closed or reset before any of the response came (not after: the body is not fetched twice): send the request again on a new connection');
  addTlsClientOptions(command, { tlsFlag: false })
    .addHelpText('after', `
Examples:
  $ netnote http-get 127.0.0.1 8080                 the note's experiment: GET / with Connection: close
  $ netnote http-get http://localhost:8080/status --fail -m 5s
  $ netnote http-get https://localhost:8443/ -k --keep-alive
  $ netnote http-get https://127.0.0.1:8443/ --ca ca.pem       the certificate must hold IP:127.0.0.1
  $ netnote http-get https://192.0.2.10/ --servername device.local --ca ca.pem --cert me.pem --key me.key
  $ netnote http-get http://127.0.0.1:8080/fw.bin --body-only > fw.bin
  $ netnote http-get http://127.0.0.1:8080/health --wait-for 30s --fail      once the server answers (CI)`)
    .action((target: string, port: string | undefined, options: HttpGetOptions, cmd: Command) =>
      execute(cmd, 'client', async ({ reporter, signal, finish }) => {
        const where = parseTarget(target, port);
        // -k on an http:// URL has always been accepted and ignored, as curl does.
        const tlsSpec = tlsClientSpec(where.tls ? options : { ...options, insecure: undefined }, where.tls, 'an https:// URL', ['http/1.1']);
        const tls = tlsSpec ? await TlsClient.create(tlsSpec, terminalPassphrase(), signal) : null;
        const output = options.output === undefined ? null : await openBodyFile(options.output, signal);
        const body = output ? { to: output, name: `--output ${options.output}` } : options.bodyOnly ? { to: process.stdout, name: 'stdout' } : null;
        const result = await runHttpGet({
          ...where,
          tls,
          local: localSpec(options),
          path: options.path ?? where.path,
          method: options.method,
          headers: options.header.map((h) => {
            const colon = h.indexOf(':');
            return [h.slice(0, colon).trim(), h.slice(colon + 1).trim()] as [string, string];
          }),
          keepAlive: options.keepAlive === true,
          chunkSize: options.chunkSize,
          maxTimeMs: options.maxTime ?? null,
          body,
          waitForMs: options.waitFor ?? null,
          reconnect: reconnectPolicy(options),
        }, reporter, signal);
        // The last writes may fail after the download settled (a full disk): the body is not whole.
        const unwritten = output ? await closeOutput(output, options.output!) : null;
        const status = result.summary.status;
        const failed = !result.error && options.fail && status && status.code >= 400
          ? new NetnoteError('assertion', `the server answered ${status.code} ${status.message} (--fail)`)
          : null;
        finish([{ role: 'client', summary: result.summary }], result.error ?? unwritten ?? failed);
      }, { style: 'note-http', silent: options.bodyOnly === true, checks: options.fail ? [{ name: '--fail', decidedBy: 'status' }] : [] }));
}

async function openBodyFile(path: string, signal: AbortSignal): Promise<WriteStream> {
  return createWriteStream('', { fd: await openOutput(path, `--output ${path}`, signal) });
}

/** Flushes and closes --output: the error of a write that failed, if one did. */
function closeOutput(stream: WriteStream, path: string): Promise<NetnoteError | null> {
  return new Promise((resolve) => {
    if (stream.errored) return resolve(outputError(`--output ${path}`, stream.errored));
    stream.end((err?: Error | null) => resolve(err ? outputError(`--output ${path}`, err) : null));
  });
}
