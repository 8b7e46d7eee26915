// logging: what it costs tcp-server to log every message to a file instead of running --quiet,
// and, for reference, a bare Node echo that writes every chunk as it is to a file (the least
// that logging the whole stream synchronously can cost). These two contenders run inside the tcp
// section, in the same rounds as the others, so the ratios compare servers measured alike.

import fs from 'node:fs';
import path from 'node:path';
import { scratch, startBareNode, startNetnote } from '../harness.mjs';

const LOG_FILE = path.join(scratch, 'netnote-server.log');
const BARE_LOG_FILE = path.join(scratch, 'bare-server.log');

/** What the server logged this run goes into the round's entry; then the file starts over, so it stays small. */
const countAndTruncate = (logFile) => (entry) => {
  entry.logBytes = fs.statSync(logFile).size;
  fs.truncateSync(logFile, 0);
};

export const LOGGING_CONTENDERS = [
  { id: 'netnote-log-file', label: 'netnote, log to file', start: () => startNetnote('netnote (log to file)', LOG_FILE), afterRun: countAndTruncate(LOG_FILE) },
  {
    id: 'bare-node-log-file', label: 'bare node, raw chunks to file', start: () => startBareNode('bare node (log to file)', BARE_LOG_FILE),
    afterRun: countAndTruncate(BARE_LOG_FILE),
  },
];

/** Against the tcp section's netnote-quiet and bare-node. */
export const LOGGING_RATIOS = [
  { id: 'netnote-log-file/netnote-quiet', of: 'netnote-log-file', to: 'netnote-quiet', target: 0.5 },
  // No target: how far the same target is reachable at all when every byte goes to a file.
  { id: 'bare-node-log-file/bare-node', of: 'bare-node-log-file', to: 'bare-node', target: null },
];
