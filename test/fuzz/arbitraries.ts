// The command lines the campaign generates: for every command, its positionals and any subset of
// its options, each value drawn from what a person types right, nearly right, and wrong (hosts,
// ports, durations, sizes, hex, regexes, templates, frame specs, paths), sometimes an option twice
// or a stray word. Names resolve only inside the campaign's namespace (test/fuzz/argv.test.ts).
import fc from 'fast-check';

/** What the generators point at: the peers and files the campaign set up. */
export interface Targets {
  echoTcp: number;
  echoUdp: number;
  sinkTcp: number;
  httpTcp: number;
  closedPort: number;
  /** A payload file, a saved --json run, a client and a server script, a bad script, a FIFO nobody writes to, a directory. */
  files: { payload: string; run: string; clientScript: string; serverScript: string; badScript: string; fifo: string; dir: string; out: string };
}

/** Any string a shell can pass (no NUL), often short. */
const anyText = fc.string({ unit: 'binary', maxLength: 24 }).filter((s) => !s.includes('\0'));

const oneOf = (...values: string[]) => fc.constantFrom(...values);

/**
 * Mostly what a person means (so that runs get past the parser and do network work), often
 * something nearly right, now and then anything at all.
 */
function typed(right: fc.Arbitrary<string>, wrong: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return fc.oneof({ weight: 6, arbitrary: right }, { weight: 3, arbitrary: wrong }, { weight: 1, arbitrary: anyText });
}

export const duration = typed(
  fc.oneof(oneOf('0', '1', '10ms', '50ms', '100ms', '300ms', '1.5s', '1m30s', '596h31m23s', '0.5'), fc.tuple(fc.nat(2000), oneOf('ms', '')).map(([n, unit]) => `${n}${unit}`)),
  oneOf('2147484s', '1x', '-1s', '1e3s', '', 'ms', '1h1h', '0.0001ms', ' 5s ', '99999999999999s', '1.', '.5s', '1m30'),
);

export const count = typed(fc.oneof(oneOf('1', '2', '3', '10'), fc.integer({ min: 1, max: 50 }).map(String)), oneOf('0', '-1', '1.5', 'abc', '99999999999999999999', '1e2', ' 2', '0x10', '1048577'));

export const percent = typed(oneOf('0', '1', '2.5%', '50', '100'), oneOf('101', '-1', 'abc', '1%%', ''));

export const hex = typed(
  fc.oneof(oneOf('01 03 00 00', '0x0103', '01:03', 'ff', '{seq:u16be} 00', 'aa {crc16-modbus}'),
    fc.uint8Array({ minLength: 1, maxLength: 8 }).chain((bytes) => oneOf(' ', ':', '').map((sep) => Buffer.from(bytes).toString('hex').replace(/(..)(?!$)/g, `$1${sep}`)))),
  oneOf('zz', '0', '', '0x', '01-03-', '{bogus}', '{seq:u99}', '{'),
);

export const text = typed(oneOf('1234567890', 'AT+CSQ\r\n', '{seq}', '{seq:u16be}', 'ping', 'OK\n', 'x'), oneOf('', '{bogus}', '{', '}', '{seq:u99}', '{time:u32be}', '{crc16-modbus}'));

export const regex = typed(oneOf('^OK', '.*', '\\d+', '^1234567890$', '[\\s\\S]{4}', '(?<n>a)'), oneOf('(', '[a-', '\\', '(a+)+$', 'a{2,1}', '*'));

export const rate = typed(oneOf('1', '10', '100', '1000', '2.5'), oneOf('0', '-1', 'abc', '1e9', ''));

export const bitrate = typed(oneOf('512k', '1M', '10M', '64000', '1.5m'), oneOf('0', '10Q', '-1M', 'k', '1e99', ''));

export const frame = typed(
  oneOf('raw', 'line', 'delimiter:0d0a', 'fixed:4', 'fixed:10', 'length:u16be', 'length:u32le@2+3', 'mqtt'),
  oneOf('delimiter:zz', 'delimiter:', 'fixed:0', 'fixed:-1', 'length:u8@99', 'length:bogus', '', 'length:u16be+-70000'),
);

export const host = typed(
  oneOf('127.0.0.1', '127.0.0.1', '::1', '[::1]', 'localhost', 'gw.lan'),
  oneOf('nx.lan', '127.0.0.2', '0.0.0.0', '::', '', ' ', 'a b', '1.2.3.999', '[::1', 'fe80::1%nope', '999.1.1.1', '127.1', 'ßtraße.lan', '192.0.2.1',
    '255.255.255.255', '127.255.255.255', '224.0.0.1', '239.1.2.3', 'ff02::1'),
);

export const port = (t: Targets) => typed(
  oneOf(...[t.echoTcp, t.echoTcp, t.echoUdp, t.echoUdp, t.sinkTcp, t.httpTcp, t.closedPort].map(String)),
  oneOf('0', '65536', '-1', 'abc', 'echo', 'http', 'modbus', '', ' 80', '0x50', '53'),
);

export const path = (t: Targets) => typed(
  oneOf(...Object.values(t.files), '-', '/dev/null'),
  oneOf('/nonexistent/x', '/dev/full', '/proc/version', ''),
);

/** A value-taking option and what its values are drawn from; null for a flag. */
type OptionSpec = [flag: string, value: fc.Arbitrary<string> | null];

const globalOptions = (t: Targets): OptionSpec[] => [
  ['--json', null], ['-q', null], ['--quiet', null], ['--no-color', null], ['--hex-dump', null],
  ['--report', fc.oneof(oneOf(t.files.out, '/dev/full', '/nonexistent/r.html'), path(t))],
  ['--junit', fc.oneof(oneOf(t.files.out, '/dev/full', '/proc/version'), path(t))],
  ['--log', fc.oneof(oneOf(t.files.out, '/dev/full', '/nonexistent/x.log'), path(t))],
  ['--timestamps', null], ['--timestamps', oneOf('iso', 'elapsed', 'bogus')],
];

const payloadOptions = (t: Targets): OptionSpec[] => [['--data', text], ['--hex', hex], ['--file', path(t)], ['--size', count], ['--template', null]];

const exchangeOptions: OptionSpec[] = [
  ['-c', count], ['--count', count], ['-i', duration], ['-w', duration], ['--no-wait', null],
  ['--expect', text], ['--expect-hex', hex], ['--expect-regex', regex], ['--verify-echo', null], ['--chart', null],
];

const localOptions: OptionSpec[] = [
  ['--bind', fc.oneof(oneOf('127.0.0.1', '127.0.0.1:0', '[::1]:0', '192.0.2.1', 'abc', '127.0.0.1:99999', '::1'), anyText)],
  ['-I', fc.oneof(oneOf('lo', 'nope', ''), anyText)], ['--reuse-address', null],
];

const tlsClientOptions = (t: Targets): OptionSpec[] => [
  ['--tls', null], ['-k', null], ['--ca', path(t)], ['--servername', fc.oneof(oneOf('device.lan', '127.0.0.1', 'a b'), anyText)],
  ['--tls-min', oneOf('1.2', '1.3', '1.1')], ['--alpn', fc.oneof(oneOf('mqtt', 'h2,http/1.1', ','), anyText)], ['--pin', fc.oneof(oneOf('sha256//abc', `sha256//${'A'.repeat(43)}=`), anyText)],
];

const heartbeatOptions: OptionSpec[] = [
  ['--heartbeat', duration], ['--heartbeat-data', text], ['--heartbeat-hex', hex], ['--heartbeat-expect', text], ['--heartbeat-expect-hex', hex],
];

const reconnectOptions: OptionSpec[] = [
  ['--reconnect', null], ['--reconnect', count], ['--backoff', fc.oneof(duration, oneOf('1s,30s', '10ms,20ms', '5s,1s', '1s,', ',1s'))], ['--wait-for', duration],
];

const answerOptions = (t: Targets): OptionSpec[] => [
  ['--reply', text], ['--reply-hex', hex], ['--push', text], ['--push-hex', hex], ['--every', duration], ['--template', null], ['--script', path(t)], ['--sink', null],
];

/** Every command the campaign drives. */
export const COMMANDS = ['tcp-client', 'udp-client', 'tcp-server', 'udp-server', 'http-get', 'resolve', 'idle-timeout', 'demo', 'merge', 'report', 'interfaces', 'route', 'completion', 'help'];

/** Every command, its positionals, and its options. */
function commands(t: Targets): Record<string, { positionals: fc.Arbitrary<string[]>; options: OptionSpec[] }> {
  return {
    'tcp-client': {
      positionals: fc.tuple(host, port(t)),
      options: [...payloadOptions(t), ...exchangeOptions, ...localOptions, ...tlsClientOptions(t), ['--script', path(t)], ['--frame', frame],
        ['--max-in-flight', count], ['--ping', null], ['--stream', null], ['--duration', duration], ['--parallel', count], ['--reverse', null],
        ['--connections', count], ['--rate', count], ['--hold', duration], ['--bidir', null], ['--bitrate', bitrate], ['--burst', count],
        ['--keepalive', duration], ...heartbeatOptions, ...reconnectOptions, ['--report-every', duration]],
    },
    'udp-client': {
      positionals: fc.tuple(host, port(t)),
      options: [...payloadOptions(t), ...exchangeOptions, ...localOptions, ['--script', path(t)], ['--probe', null], ['--max-loss', percent],
        ['--strict-source', null], ['--broadcast', null], ['--ttl', fc.oneof(count, oneOf('0', '255', '256'))], ['--multicast-interface', fc.oneof(oneOf('lo', '127.0.0.1', 'nope'), anyText)],
        ['--loopback', oneOf('on', 'off', 'maybe')], ['--rate', rate], ['--bitrate', bitrate], ['--burst', count], ['--duration', duration], ['--one-way', null], ['--reverse', null],
        ...heartbeatOptions, ['--report-every', duration]],
    },
    'tcp-server': {
      positionals: fc.oneof(fc.constant([]), fc.tuple(host), fc.tuple(host, oneOf('0', '0', 'x', '65536', '-1', '80'))),
      options: [...answerOptions(t), ['--greeting', text], ['--greeting-hex', hex], ['--backlog', count], ['--max-clients', count], ['--idle-timeout', duration],
        ['--frame', frame], ['-w', duration], ['--tls', null], ['--self-signed', null], ['--san', fc.oneof(oneOf('localhost,127.0.0.1', '*.lan', 'a b'), anyText)],
        ['--keepalive', duration], ['--drop-after', duration], ['--drop-every', duration], ['--drop-mode', oneOf('fin', 'reset', 'silence', 'rst')], ['--report-every', duration]],
    },
    'udp-server': {
      positionals: fc.oneof(fc.constant([]), fc.tuple(host), fc.tuple(host, oneOf('0', '0', 'x', '65536', '-1'))),
      options: [...answerOptions(t), ['--max-size', count], ['--reuse-address', null], ['--peer-ttl', duration], ['--report-every', duration],
        ['--join', fc.oneof(oneOf('239.1.2.3', '239.1.2.3@lo', 'ff02::fd@lo', '232.1.1.1@lo,source=127.0.0.1', '127.0.0.1', '239.1.2.3@nope'), anyText)]],
    },
    'http-get': {
      positionals: fc.oneof(
        fc.tuple(host, port(t)),
        fc.tuple(port(t).map((p) => `http://127.0.0.1:${p}/`)),
        fc.tuple(fc.oneof(oneOf('http://gw.lan/', 'https://127.0.0.1:1/', 'ftp://x/', 'http://[::1', 'http://127.0.0.1:0/', 'http:'), anyText)),
      ),
      options: [...localOptions, ...tlsClientOptions(t).filter(([flag]) => flag !== '--tls' && flag !== '--alpn'),
        ['--path', fc.oneof(oneOf('/', '/x?y=1', '/a b', '/x\r\nInjected: 1', '*'), anyText)], ['-H', fc.oneof(oneOf('X-A: 1', 'X-A: 1\r\nB: 2', 'bad', ': x'), anyText)],
        ['--method', oneOf('GET', 'HEAD', 'PUT')], ['--keep-alive', null], ['-o', path(t)], ['--body-only', null], ['--fail', null], ['-m', duration], ['--chunk-size', count],
        ...reconnectOptions],
    },
    resolve: {
      positionals: fc.oneof(fc.tuple(host), fc.tuple(host, fc.oneof(port(t), oneOf('0')))),
      options: [['-s', fc.oneof(oneOf('127.0.0.1', '127.0.0.1:53', '127.0.0.1:0', `127.0.0.1:${t.closedPort}`, '[::1]:53', 'gw.lan', '127.0.0.1:99999'), anyText)],
        ['-t', fc.oneof(oneOf('A', 'AAAA', 'MX', 'A,AAAA', 'PTR', 'BOGUS', 'a,'), anyText)], ['--all-servers', null], ['-w', duration]],
    },
    'idle-timeout': {
      positionals: fc.tuple(host, port(t)),
      options: [['--proto', oneOf('tcp', 'udp', 'sctp')], ['--max', duration], ['--resolution', fc.oneof(duration, oneOf('5%', '5%,1s', '100%', '0%', '1s,5%', '5%,5%'))],
        ['--parallel', count], ['-w', duration], ['--verify', duration], ['--hold', duration], ...localOptions],
    },
    demo: {
      positionals: fc.oneof(fc.constant([]), fc.tuple(fc.oneof(oneOf('tcp', 'udp', 'sctp'), anyText))),
      options: [['--host', host], ['--port', fc.oneof(oneOf('0', '0', 'x', '65536'), anyText)], ['-c', count], ['-i', duration]],
    },
    merge: { positionals: fc.array(path(t), { minLength: 1, maxLength: 3 }), options: [] },
    report: { positionals: fc.array(path(t), { minLength: 1, maxLength: 2 }), options: [['-o', fc.oneof(oneOf(t.files.out, '/dev/full'), path(t))]] },
    interfaces: { positionals: fc.constant([]), options: [] },
    route: { positionals: fc.oneof(fc.tuple(host), fc.tuple(host, port(t))), options: [] },
    completion: { positionals: fc.tuple(fc.oneof(oneOf('bash', 'zsh', 'fish', 'csh'), anyText)), options: [] },
    help: { positionals: fc.oneof(fc.constant([]), fc.tuple(fc.oneof(oneOf('json', 'tcp-client', 'schema', 'nothing'), anyText))), options: [] },
  };
}

/** `some` once in `every` times, `none` otherwise. */
function rarely<T>(some: fc.Arbitrary<T>, none: T, every: number): fc.Arbitrary<T> {
  return fc.oneof({ weight: every - 1, arbitrary: fc.constant(none) }, { weight: 1, arbitrary: some });
}

/**
 * A command line for `name`: some global options, the positionals, a subset of its options with
 * their values (now and then one given twice), and now and then a stray word.
 */
export function commandLine(t: Targets, name: string): fc.Arbitrary<string[]> {
  const spec = commands(t)[name]!;
  const option = ([flag, value]: OptionSpec) => (value ? value.map((v) => [flag, v]) : fc.constant([flag]));
  const chosen = (specs: OptionSpec[], max: number) => (specs.length === 0
    ? fc.constant([] as string[][])
    : fc.uniqueArray(fc.constantFrom(...specs.keys()), { maxLength: max }).chain((indexes) => (indexes.length === 0 ? fc.constant([] as string[][]) : fc.tuple(...indexes.map((i) => option(specs[i]!))))));
  return fc.record({
    globals: rarely(chosen(globalOptions(t), 2), [] as string[][], 3),
    json: fc.boolean(),
    positionals: spec.positionals,
    options: chosen(spec.options, 3),
    twice: rarely(spec.options.length > 0 ? chosen(spec.options, 1) : fc.constant([] as string[][]), [] as string[][], 8),
    stray: rarely(anyText.map((word) => [word]), [] as string[], 20),
  }).map(({ globals, json, positionals, options, twice, stray }) => [
    ...(json && !globals.some((g) => g[0] === '--json') ? ['--json'] : []),
    ...globals.flat(), name, ...positionals, ...options.flat(), ...twice.flat(), ...stray,
  ]);
}
