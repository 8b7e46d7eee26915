// A real nginx (Debian nginx-light) started by a test: its own prefix, config and files in a temp
// dir, one process (master_process off), no access log, on a loopback port; killed by stop().
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { freePort } from './peers.js';

export const NGINX = '/usr/sbin/nginx';

/** Why nginx cannot be used here, or null when it can. */
export const nginxUnavailable: string | null = (() => {
  const probe = spawnSync(NGINX, ['-v'], { encoding: 'utf8' });
  return probe.status === 0 ? null : `${NGINX} missing (Debian package nginx-light)`;
})();

export interface NginxOptions {
  /** Files under the document root: relative path → content. */
  files: Record<string, string | Buffer>;
  /** Extra directives inside `server { }` (locations…); `ROOT` is replaced by the root dir. */
  server?: string;
  /** Extra directives inside `http { }`. */
  http?: string;
  /** Runs nginx through this command, e.g. `ip netns exec NAME`. */
  prefix?: string[];
  /** Listen port; default a free loopback port of this machine (give one inside a namespace). */
  port?: number;
}

export interface Nginx {
  port: number;
  dir: string;
  root: string;
  /** What nginx wrote to stderr (error_log stderr). */
  stderr(): string;
  stop(): void;
}


export async function startNginx(options: NginxOptions): Promise<Nginx> {
  const dir = mkdtempSync(join(tmpdir(), 'netnote-nginx-'));
  const root = join(dir, 'www');
  mkdirSync(root);
  for (const [path, content] of Object.entries(options.files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  const port = options.port ?? (await freePort());
  // The Debian build's temp paths are absolute (/var/lib/nginx/…): keep them in our dir too.
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${join(dir, t)};`).join('\n');
  writeFileSync(join(dir, 'nginx.conf'), `master_process off;
worker_processes 1;
events { worker_connections 256; }
http {
  access_log off;
${temp}
  default_type application/octet-stream;
  ${options.http ?? ''}
  server {
    listen 127.0.0.1:${port};
    root ${root};
    ${(options.server ?? '').replaceAll('ROOT', root)}
  }
}
`);
  const pidFile = join(dir, 'nginx.pid');
  const [command, ...args] = [...(options.prefix ?? []), NGINX, '-p', dir, '-c', join(dir, 'nginx.conf'), '-g', `daemon off; pid ${pidFile}; error_log stderr;`];
  const child = spawn(command!, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  let exited = false;
  child.on('exit', () => (exited = true));
  const stop = () => {
    if (!exited) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  // nginx writes its pid file after it has opened its listening sockets.
  for (let i = 0; !existsSync(pidFile); i++) {
    if (exited || i > 250) {
      stop();
      throw new Error(`nginx did not start: ${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return { port, dir, root, stderr: () => stderr, stop };
}
