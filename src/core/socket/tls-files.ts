import { createPrivateKey, X509Certificate } from 'node:crypto';
import { NetnoteError } from '../errors.js';
import { readInput } from '../files.js';

// The PEM files a person gives the TLS options, read once before anything connects: a file that
// is missing, holds no certificate, or a key that does not open is a usage error (exit 2).

export type TlsVersion = 'TLSv1.2' | 'TLSv1.3';

/** Asks the person at the terminal for a key's passphrase; null when nobody can be asked. */
export type AskPassphrase = ((prompt: string) => Promise<string>) | null;

/** A certificate and its key, as given (`--cert FILE --key FILE`, `--pass`). */
export interface KeyPairFiles {
  cert: string;
  key: string;
  passphrase: string | null;
}

/** What the secure context takes: the chain as PEM, the key decrypted, the leaf parsed. */
export interface KeyPair {
  cert: string;
  key: string;
  leaf: X509Certificate;
}

/** A CA bundle holds a few hundred certificates: far less than this. */
const MAX_PEM = 16 * 1024 * 1024;

/** A PEM file: a FIFO or `<(vault read …)` too, read so that a signal stops the wait. */
async function readText(path: string, option: string, signal?: AbortSignal): Promise<string> {
  const text = await readInput({ path, option }, MAX_PEM, signal);
  if (!text) throw new NetnoteError('usage', `${option} ${path} is more than ${MAX_PEM / 1024 / 1024} MiB: not a PEM file`);
  return text.toString('utf8');
}

/** Every certificate in a PEM file (a CA bundle, a chain); at least one. */
export async function readCertificates(path: string, option: string, signal?: AbortSignal): Promise<X509Certificate[]> {
  const blocks = (await readText(path, option, signal)).match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new NetnoteError('usage', `no PEM certificate in ${option} ${path}`);
  return blocks.map((block) => {
    try {
      return new X509Certificate(block);
    } catch (err) {
      throw new NetnoteError('usage', `a certificate in ${option} ${path} cannot be read: ${(err as Error).message}`);
    }
  });
}

/**
 * The certificate chain and the key, the key decrypted with --pass or, on a terminal, a
 * passphrase asked for (OpenSSL would ask too).
 */
export async function readKeyPair(files: KeyPairFiles, ask: AskPassphrase, signal?: AbortSignal): Promise<KeyPair> {
  const chain = await readCertificates(files.cert, '--cert', signal);
  const pem = await readText(files.key, '--key', signal);
  let passphrase = files.passphrase ?? undefined;
  for (;;) {
    try {
      const key = createPrivateKey({ key: pem, format: 'pem', ...(passphrase === undefined ? {} : { passphrase }) });
      if (!chain[0]!.checkPrivateKey(key)) {
        throw new NetnoteError('usage', `--key ${files.key} is not the key of --cert ${files.cert} (${chain[0]!.subject.replaceAll('\n', ', ')})`);
      }
      return { cert: chain.map((c) => c.toString()).join(''), key: key.export({ type: 'pkcs8', format: 'pem' }) as string, leaf: chain[0]! };
    } catch (err) {
      if (err instanceof NetnoteError) throw err;
      // OpenSSL 3 reports a PKCS#8 key it could not ask a passphrase for as "interrupted or cancelled".
      const missing = passphrase === undefined && /^ERR_(MISSING_PASSPHRASE|OSSL_CRYPTO_INTERRUPTED_OR_CANCELLED)$/.test((err as NodeJS.ErrnoException).code ?? '');
      const code = (err as NodeJS.ErrnoException).code ?? '';
      if (missing && ask) {
        passphrase = await ask(`passphrase for ${files.key}: `);
        continue;
      }
      if (missing) throw new NetnoteError('usage', `--key ${files.key} is encrypted: give its passphrase with --pass`);
      if (/BAD_DECRYPT/.test(code)) throw new NetnoteError('usage', `wrong passphrase for --key ${files.key}`);
      throw new NetnoteError('usage', `no private key in --key ${files.key}: ${(err as Error).message}`);
    }
  }
}
