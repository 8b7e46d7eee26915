// Certificates a TLS test needs, made by the real openssl command in a temp dir: a CA, and
// server or client certificates it issues with the SANs, key type and validity a test asks for
// (`openssl ca` for the dates: OpenSSL 3.0's `x509` has no -not_before/-not_after).
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Issued {
  cert: string;
  key: string;
}

export interface IssueOptions {
  /** openssl's SAN syntax: `DNS:localhost`, `IP:127.0.0.1`. */
  san?: string[];
  keyType?: 'ec' | 'rsa';
  /** openssl ca's dates, YYYYMMDDHHMMSSZ; default: valid from yesterday for a week. */
  notBefore?: string;
  notAfter?: string;
  usage?: 'server' | 'client';
  /** Encrypt the key with this passphrase (AES-256, PKCS#8). */
  passphrase?: string;
}

export interface Pki {
  dir: string;
  ca: Issued;
  /** A certificate (and its key) issued by this CA, written to NAME.pem and NAME.key. */
  issue(name: string, cn: string, options?: IssueOptions): Issued;
  /** A self-signed certificate, issued by nobody. */
  selfSigned(name: string, cn: string, options?: IssueOptions): Issued;
  remove(): void;
}

/** openssl ca's date form, `offsetDays` from now. */
export function certDate(offsetDays: number): string {
  return new Date(Date.now() + offsetDays * 86_400_000).toISOString().replace(/[-:T]/g, '').replace(/\.\d+Z$/, 'Z');
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: 'pipe' });
}

function newKey(path: string, keyType: 'ec' | 'rsa', cwd: string, passphrase?: string): void {
  openssl(['genpkey', ...(keyType === 'ec' ? ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'] : ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048']),
    ...(passphrase ? ['-aes-256-cbc', '-pass', `pass:${passphrase}`] : []), '-out', path], cwd);
}

/** A CA in a fresh temp dir (mode 755, files 644: a broker that drops root must read them). */
export function makePki(caName = 'netnote test CA'): Pki {
  const dir = mkdtempSync(join(tmpdir(), 'netnote-pki-'));
  chmodSync(dir, 0o755);
  writeFileSync(join(dir, 'index.txt'), '');
  writeFileSync(join(dir, 'ca.cnf'), `[ca]
default_ca = test
[test]
dir = ${dir}
database = ${dir}/index.txt
new_certs_dir = ${dir}
serial = ${dir}/serial
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none
[any]
commonName = supplied
`);
  writeFileSync(join(dir, 'serial'), '1000\n');
  newKey('ca.key', 'ec', dir);
  openssl(['req', '-x509', '-key', 'ca.key', '-subj', `/CN=${caName}`, '-days', '30', '-out', 'ca.pem',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
  const readable = (...names: string[]) => names.forEach((name) => chmodSync(join(dir, name), 0o644));
  readable('ca.key', 'ca.pem');

  const extensions = (name: string, options: IssueOptions) => {
    const path = join(dir, `${name}.ext`);
    const usage = options.usage === 'client' ? 'clientAuth' : 'serverAuth';
    writeFileSync(path, [
      'basicConstraints = critical,CA:FALSE',
      'keyUsage = critical,digitalSignature,keyEncipherment',
      `extendedKeyUsage = ${usage}`,
      ...(options.san?.length ? [`subjectAltName = ${options.san.join(',')}`] : []),
    ].join('\n'));
    return path;
  };

  return {
    dir,
    ca: { cert: join(dir, 'ca.pem'), key: join(dir, 'ca.key') },
    issue(name, cn, options = {}) {
      newKey(`${name}.key`, options.keyType ?? 'ec', dir, options.passphrase);
      openssl(['req', '-new', '-key', `${name}.key`, ...(options.passphrase ? ['-passin', `pass:${options.passphrase}`] : []), '-subj', `/CN=${cn}`, '-out', `${name}.csr`], dir);
      openssl(['ca', '-batch', '-notext', '-config', 'ca.cnf', '-cert', 'ca.pem', '-keyfile', 'ca.key', '-in', `${name}.csr`, '-out', `${name}.pem`,
        '-startdate', options.notBefore ?? certDate(-1), '-enddate', options.notAfter ?? certDate(7), '-extfile', extensions(name, options)], dir);
      readable(`${name}.key`, `${name}.pem`);
      return { cert: join(dir, `${name}.pem`), key: join(dir, `${name}.key`) };
    },
    selfSigned(name, cn, options = {}) {
      newKey(`${name}.key`, options.keyType ?? 'ec', dir, options.passphrase);
      openssl(['req', '-new', '-key', `${name}.key`, ...(options.passphrase ? ['-passin', `pass:${options.passphrase}`] : []), '-subj', `/CN=${cn}`, '-out', `${name}.csr`], dir);
      openssl(['ca', '-batch', '-notext', '-selfsign', '-config', 'ca.cnf', '-keyfile', `${name}.key`, '-in', `${name}.csr`, '-out', `${name}.pem`,
        '-startdate', options.notBefore ?? certDate(-1), '-enddate', options.notAfter ?? certDate(7), '-extfile', extensions(name, options),
        ...(options.passphrase ? ['-passin', `pass:${options.passphrase}`] : [])], dir);
      readable(`${name}.key`, `${name}.pem`);
      return { cert: join(dir, `${name}.pem`), key: join(dir, `${name}.key`) };
    },
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
