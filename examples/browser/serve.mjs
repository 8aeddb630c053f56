#!/usr/bin/env node
/**
 * A tiny static file server for the repository root, so that the page can import ../../dist/ as ES
 * modules (browsers refuse module scripts and module workers from file:// URLs).
 *
 *   node examples/browser/serve.mjs            # http://127.0.0.1:8765/examples/browser/
 *   node examples/browser/serve.mjs --port 0   # any free port (the URL is printed)
 *   npm run page                                # the same as the first line
 *
 * Build the library first (`npm run build`, which writes dist/). No dependency: Node's http module only.
 * It serves files read-only, never lists directories, hides dotfiles (.git, ...) and listens on
 * 127.0.0.1 only: it is for local use, not for the internet.
 */
import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const page = '/examples/browser/';

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ts': 'text/plain; charset=utf-8', // source maps point at src/*.ts; DevTools shows them
  '.d.ts': 'text/plain; charset=utf-8',
  '.md': 'text/plain; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

function parsePort(argv) {
  const i = argv.indexOf('--port');
  const value = i >= 0 ? argv[i + 1] : argv.find((a) => a.startsWith('--port='))?.slice('--port='.length);
  if (value === undefined) return 8765;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`serve: --port must be an integer in 0..65535 (0: any free port), got ${value}`);
    process.exit(2);
  }
  return port;
}

async function handle(req, res) {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD' }).end();
    return;
  }
  let path;
  try {
    path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
  } catch {
    res.writeHead(400).end('bad request');
    return;
  }
  if (path.split('/').some((part) => part.startsWith('.'))) {
    res.writeHead(404).end('not found'); // no dotfiles (.git, .env, ...) and no '..'
    return;
  }
  if (path === '/') {
    res.writeHead(302, { location: page }).end();
    return;
  }
  // Resolve inside the root only: normalize() collapses '..', and the prefix check refuses what escapes.
  let file = normalize(join(root, path));
  if (!file.startsWith(root) && file + sep !== root) {
    res.writeHead(403).end('forbidden');
    return;
  }
  try {
    let info = await stat(file);
    if (info.isDirectory()) {
      if (!path.endsWith('/')) {
        res.writeHead(301, { location: path + '/' }).end();
        return;
      }
      file = join(file, 'index.html');
      info = await stat(file);
    }
    const body = await readFile(file);
    const type = MIME[file.endsWith('.d.ts') ? '.d.ts' : extname(file)] ?? 'application/octet-stream';
    // no-store: after `npm run build` a reload picks up the new dist/ without a stale cache.
    res.writeHead(200, { 'content-type': type, 'content-length': body.length, 'cache-control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : body);
  } catch {
    const hint = path.startsWith('/dist/') ? ' (run `npm run build` first)' : '';
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end(`not found: ${path}${hint}`);
  }
}

const server = createServer((req, res) => {
  handle(req, res).catch((err) => {
    console.error(err);
    if (!res.headersSent) res.writeHead(500);
    res.end();
  });
});
server.listen(parsePort(process.argv.slice(2)), '127.0.0.1', () => {
  const { port } = server.address();
  // The test script reads this line to learn the port.
  console.log(`flowgrad page: http://127.0.0.1:${port}${page}`);
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => server.close(() => process.exit(0)));
