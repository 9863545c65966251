// GET / and GET /page/FILE: the web page, served from the package
// (src/http/page/, from dist/http/ or src/http/ alike), read once when the
// HTTP side starts — never fetched from anywhere else. Only the files found
// there, top level, with a known type: a request names a key of that map,
// never a path.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import { writeHead } from './respond.js';

export const PAGE_DIR = fileURLToPath(new URL('../../src/http/page/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.woff2': 'font/woff2',
};

export interface PageFile {
  type: string;
  body: Buffer;
  etag: string;
}

const PLACEHOLDER = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>proclaunch</title></head>
<body><h1>proclaunch</h1><p>The web page is not part of this build (no src/http/page/index.html).
The API answers under <code>/api/v1/</code>, the metrics at <code>/metrics</code>; see docs/http.md.</p></body></html>
`;

/** The page's files by name (`index.html`, `app.js`, ...): a placeholder index when there is none. */
export function loadPage(dir = PAGE_DIR): Map<string, PageFile> {
  const files = new Map<string, PageFile>();
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    // no page in this package
  }
  for (const name of names) {
    const type = TYPES[name.slice(name.lastIndexOf('.'))];
    if (!type || !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) continue;
    try {
      files.set(name, file(type, readFileSync(`${dir}/${name}`)));
    } catch {
      // a directory with such a name, or unreadable: not served
    }
  }
  if (!files.has('index.html')) files.set('index.html', file(TYPES['.html']!, Buffer.from(PLACEHOLDER)));
  return files;
}

const file = (type: string, body: Buffer): PageFile => ({ type, body, etag: `"${createHash('sha256').update(body).digest('hex').slice(0, 16)}"` });

/** Answer with one of the page's files (304 when the browser has it already). */
export function servePage(res: ServerResponse, files: Map<string, PageFile>, name: string, headers: Record<string, string>): boolean {
  const found = files.get(name);
  if (!found) return false;
  if (res.req.headers['if-none-match'] === found.etag) {
    writeHead(res, 304, { ETag: found.etag, 'Cache-Control': 'no-cache' });
    res.end();
    return true;
  }
  writeHead(res, 200, { ...headers, 'Content-Type': found.type, 'Content-Length': found.body.length, ETag: found.etag, 'Cache-Control': 'no-cache' });
  res.end(res.req.method === 'HEAD' ? undefined : found.body);
  return true;
}
