import { isIP } from 'node:net';
import { Option, type Command } from 'commander';
import { NetnoteError } from '../core/errors.js';
import type { TlsClientSpec } from '../core/socket/tls.js';
import type { AskPassphrase, TlsVersion } from '../core/socket/tls-files.js';
import type { TlsServerSpec } from '../core/socket/tls-server.js';
import { repeatable } from '../shell/usage.js';

// The TLS options of the TCP commands, parsed into the core's specs. Files are read by the core
// when the run starts; here only their names and the values' shapes are checked.

const VERSIONS: Record<string, TlsVersion> = { '1.2': 'TLSv1.2', '1.3': 'TLSv1.3' };

function parseList(input: string, what: string, check: (item: string) => string): string[] {
  const items = input.split(',').map((item) => item.trim()).filter(Boolean);
  if (items.length === 0) throw new NetnoteError('usage', `empty ${what} list '${input}'`);
  return items.map(check);
}

function parseAlpn(input: string): string[] {
  return parseList(input, '--alpn', (name) => {
    if (Buffer.byteLength(name) > 255) throw new NetnoteError('usage', `ALPN protocol name too long: '${name}' (at most 255 bytes)`);
    return name;
  });
}

/** curl's --pinnedpubkey form: `sha256//BASE64`, several joined by `;` (or the option repeated). */
function parsePins(input: string, previous: string[] = []): string[] {
  const pins = input.split(';').map((pin) => pin.trim()).filter(Boolean);
  for (const pin of pins) {
    if (!/^sha256\/\/[A-Za-z0-9+/]{43}=$/.test(pin)) {
      throw new NetnoteError('usage', `invalid --pin '${pin}': expected sha256//BASE64 (44 characters of base64, as curl --pinnedpubkey takes)`);
    }
  }
  if (pins.length === 0) throw new NetnoteError('usage', 'empty --pin');
  return [...previous, ...pins];
}

/** --san: IP addresses and DNS names (a leading `*.` allowed); [::1] as ::1. */
function parseSan(input: string): string[] {
  return parseList(input, '--san', (item) => {
    const name = item.replace(/^\[(.*)\]$/, '$1');
    if (isIP(name) === 0 && !/^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(name)) {
      throw new NetnoteError('usage', `invalid --san entry '${item}': expected an IP address or a DNS name`);
    }
    return name;
  });
}

function parseServername(input: string): string {
  if (isIP(input) !== 0) throw new NetnoteError('usage', `--servername must be a name, not an address (RFC 6066): ${input}`);
  if (!/^[A-Za-z0-9.-]+$/.test(input)) throw new NetnoteError('usage', `invalid --servername '${input}'`);
  return input;
}

const versionOption = (flag: string, description: string) => new Option(flag, description).choices(Object.keys(VERSIONS));

/** What the client and the server share. */
interface CommonTlsOptions {
  tls?: boolean;
  cert?: string;
  key?: string;
  pass?: string;
  alpn?: string[];
  tlsMin?: string;
  tlsMax?: string;
}

export interface TlsClientOptions extends CommonTlsOptions {
  servername?: string;
  ca?: string;
  caOnly?: boolean;
  insecure?: boolean;
  pin?: string[];
}

export interface TlsServerOptions extends CommonTlsOptions {
  selfSigned?: boolean;
  san?: string[];
  keyType: 'ec' | 'rsa';
  saveCert?: string;
  saveKey?: string;
  clientCa?: string;
  requestCert?: boolean;
}

function addKeyPairOptions(command: Command, who: string): void {
  command
    .addOption(new Option('--cert <file>', `${who} certificate (PEM, chain allowed)`))
    .addOption(new Option('--key <file>', `${who} private key (PEM); an encrypted one takes --pass, or asks on a terminal`))
    .addOption(new Option('--pass <passphrase>', "--key's passphrase"));
}

/**
 * The client's TLS options. `tcp-client` has `--tls` and `--alpn`; `http-get` speaks TLS for
 * https:// URLs and offers http/1.1 by ALPN.
 */
export function addTlsClientOptions(command: Command, own: { tlsFlag: boolean }): Command {
  if (own.tlsFlag) command.addOption(new Option('--tls', 'speak TLS over the connection (a TLS client: ncat --ssl, socat OPENSSL:)'));
  command
    .addOption(new Option('--servername <name>', 'SNI, and the name the certificate must hold (default: the host, unless it is an address)').argParser(parseServername))
    .addOption(new Option('--ca <file>', 'trust the CAs in this PEM file, besides the default roots'))
    .addOption(new Option('--ca-only', 'trust only --ca, not the default roots'));
  addKeyPairOptions(command, 'client');
  command.addOption(new Option('-k, --insecure', 'accept a certificate that does not verify (still shown; --pin still checked)'));
  if (own.tlsFlag) command.addOption(new Option('--alpn <list>', 'ALPN protocols to offer, comma-separated (e.g. mqtt, x-amzn-mqtt-ca, h2)').argParser(parseAlpn));
  return command
    .addOption(versionOption('--tls-min <version>', 'lowest TLS version allowed'))
    .addOption(versionOption('--tls-max <version>', 'highest TLS version allowed'))
    .addOption(repeatable(new Option('--pin <sha256//base64>', "the server's public key must hash to this (curl --pinnedpubkey form; ';' or repeat for several)").argParser(parsePins)));
}

export function addTlsServerOptions(command: Command): Command {
  command.addOption(new Option('--tls', 'serve TLS on every connection: --cert and --key, or --self-signed'));
  addKeyPairOptions(command, 'server');
  return command
    .addOption(new Option('--self-signed', 'make a key and a self-signed certificate for this run'))
    .addOption(new Option('--san <list>', '--self-signed: its names and addresses, comma-separated (default: the bound address, or every address of this host for 0.0.0.0/::, and localhost)').argParser(parseSan))
    .addOption(new Option('--key-type <type>', '--self-signed: ECDSA P-256 (ec) or RSA 2048 (rsa)').choices(['ec', 'rsa']).default('ec'))
    .addOption(new Option('--save-cert <file>', 'write the certificate presented (PEM): for a device to trust or pin'))
    .addOption(new Option('--save-key <file>', '--self-signed: write its key too (mode 600), to serve the same certificate again with --cert/--key'))
    .addOption(new Option('--client-ca <file>', 'require client certificates issued by these CAs (mutual TLS)').conflicts('requestCert'))
    .addOption(new Option('--request-cert', 'ask for a client certificate and show it, without requiring one'))
    .addOption(new Option('--alpn <list>', 'ALPN protocols to accept, in order of preference, comma-separated').argParser(parseAlpn))
    .addOption(versionOption('--tls-min <version>', 'lowest TLS version allowed'))
    .addOption(versionOption('--tls-max <version>', 'highest TLS version allowed'));
}

/** The options given among `names` (as commander's keys), for "needs --tls" errors. */
function given(options: object, names: string[]): string[] {
  return names.filter((name) => (options as Record<string, unknown>)[name] !== undefined);
}

const flag = (name: string) => `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

function versions(options: CommonTlsOptions): { minVersion: TlsVersion | null; maxVersion: TlsVersion | null } {
  const minVersion = options.tlsMin === undefined ? null : VERSIONS[options.tlsMin]!;
  const maxVersion = options.tlsMax === undefined ? null : VERSIONS[options.tlsMax]!;
  if (minVersion && maxVersion && minVersion > maxVersion) throw new NetnoteError('usage', `--tls-min ${options.tlsMin} is above --tls-max ${options.tlsMax}`);
  return { minVersion, maxVersion };
}

function keyPair(options: CommonTlsOptions): { cert: string; key: string; passphrase: string | null } | null {
  if ((options.cert === undefined) !== (options.key === undefined)) throw new NetnoteError('usage', '--cert and --key go together');
  if (options.pass !== undefined && options.key === undefined) throw new NetnoteError('usage', '--pass is the passphrase of --key: give --key');
  return options.cert === undefined ? null : { cert: options.cert, key: options.key!, passphrase: options.pass ?? null };
}

const CLIENT_ONLY = ['servername', 'ca', 'caOnly', 'cert', 'key', 'pass', 'insecure', 'alpn', 'tlsMin', 'tlsMax', 'pin'];

/**
 * The client spec, or null without TLS. `secured` says whether TLS is on (--tls, https://);
 * `needs` names what turns it on, for the error when a TLS option comes without it.
 */
export function tlsClientSpec(options: TlsClientOptions, secured: boolean, needs: string, alpn: string[] = []): TlsClientSpec | null {
  if (!secured) {
    const stray = given(options, CLIENT_ONLY);
    if (stray.length > 0) throw new NetnoteError('usage', `${flag(stray[0]!)} needs ${needs}`);
    return null;
  }
  if (options.caOnly && options.ca === undefined) throw new NetnoteError('usage', '--ca-only needs --ca FILE');
  return {
    servername: options.servername ?? null,
    ca: options.ca ?? null,
    caOnly: options.caOnly === true,
    credentials: keyPair(options),
    insecure: options.insecure === true,
    alpn: options.alpn ?? alpn,
    ...versions(options),
    pins: options.pin ?? [],
  };
}

const SERVER_ONLY = ['cert', 'key', 'pass', 'selfSigned', 'san', 'saveCert', 'saveKey', 'clientCa', 'requestCert', 'alpn', 'tlsMin', 'tlsMax'];

export function tlsServerSpec(options: TlsServerOptions, keyTypeGiven: boolean): TlsServerSpec | null {
  if (!options.tls) {
    const stray = [...given(options, SERVER_ONLY), ...(keyTypeGiven ? ['keyType'] : [])];
    if (stray.length > 0) throw new NetnoteError('usage', `${flag(stray[0]!)} needs --tls`);
    return null;
  }
  const credentials = keyPair(options);
  if (credentials && options.selfSigned) throw new NetnoteError('usage', '--self-signed makes its own key and certificate: drop --cert and --key');
  if (!credentials && !options.selfSigned) throw new NetnoteError('usage', '--tls needs a certificate: --cert FILE --key FILE, or --self-signed');
  if (!options.selfSigned) {
    const stray = [...given(options, ['san', 'saveKey']), ...(keyTypeGiven ? ['keyType'] : [])];
    if (stray.length > 0) throw new NetnoteError('usage', `${flag(stray[0]!)} goes with --self-signed`);
  }
  return {
    credentials,
    selfSigned: options.selfSigned ? { san: options.san ?? null, keyType: options.keyType } : null,
    saveCert: options.saveCert ?? null,
    saveKey: options.saveKey ?? null,
    clientCa: options.clientCa ?? null,
    requestCert: options.requestCert === true,
    alpn: options.alpn ?? [],
    ...versions(options),
  };
}

/** A passphrase typed at the terminal, not echoed; null when stdin is not one (--pass then). */
export function terminalPassphrase(): AskPassphrase {
  const { stdin, stderr } = process;
  if (!stdin.isTTY || !stderr.isTTY) return null;
  return (prompt) => new Promise((resolve, reject) => {
    stderr.write(prompt);
    stdin.setRawMode(true);
    stdin.setEncoding('utf8');
    stdin.resume();
    let typed = '';
    const done = (error: NetnoteError | null) => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      stderr.write('\n');
      if (error) reject(error);
      else resolve(typed);
    };
    const onData = (chunk: string) => {
      for (const char of chunk) {
        if (char === '\r' || char === '\n') return done(null);
        if (char === '\u0003') return done(new NetnoteError('interrupted', 'interrupted at the passphrase prompt'));
        if (char === '\u007f' || char === '\b') typed = typed.slice(0, -1);
        else typed += char;
      }
    };
    stdin.on('data', onData);
  });
}
