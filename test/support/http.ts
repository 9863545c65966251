// Talking to a supervisor's HTTP side: a real supervisor started with
// `--http 127.0.0.1:0` (the log says which port it got), requests with the
// tokens it wrote, and SSE streams read as they come.
import { readFileSync } from 'node:fs';
import { request, type IncomingHttpHeaders } from 'node:http';
import { join } from 'node:path';
import type { Sandbox } from './sandbox.js';
import { waitFor } from './wait.js';

export interface HttpReply {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  json(): Record<string, unknown>;
}

export interface HttpCall {
  method?: string;
  token?: string | null;
  headers?: Record<string, string>;
  /** An object is sent as JSON (with its Content-Type); a string as is. */
  body?: object | string;
  timeoutMs?: number;
}

/** Where a supervisor started on `box` listens: `{ host, port }` from its `http listening on` line (the nth one). */
export async function httpAddressOf(box: Sandbox, nth = 1): Promise<{ host: string; port: number }> {
  const lines = () => box.lines().filter((l) => l.tag === 'proclaunch' && l.message.startsWith('http listening on '));
  await waitFor(() => `http listening\n${box.logText()}`, () => lines().length >= nth);
  const [, host, port] = /^http listening on (.*):(\d+)/.exec(lines()[nth - 1]!.message)!;
  return { host: host!.replace(/^\[|\]$/g, ''), port: Number(port) };
}

export const tokenOf = (box: Sandbox, kind: 'full' | 'readonly' = 'full'): string =>
  readFileSync(join(box.stateDir, kind === 'full' ? 'http.token' : 'http.readonly-token'), 'utf8').trim();

/** One HTTP request; resolves with the whole reply (rejects on a connection error or after timeoutMs). */
export function http(port: number, path: string, call: HttpCall = {}): Promise<HttpReply> {
  const headers: Record<string, string> = { ...call.headers };
  if (call.token) headers.Authorization = `Bearer ${call.token}`;
  let body: string | undefined;
  if (call.body !== undefined) {
    body = typeof call.body === 'string' ? call.body : JSON.stringify(call.body);
    if (typeof call.body !== 'string') headers['Content-Type'] ??= 'application/json';
  }
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: call.method ?? (body === undefined ? 'GET' : 'POST'), headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text) as Record<string, unknown> });
      });
    });
    const timer = setTimeout(() => req.destroy(new Error(`no reply to ${path} within ${call.timeoutMs ?? 10_000}ms`)), call.timeoutMs ?? 10_000);
    req.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    req.end(body);
  });
}

export interface SseMessage {
  id?: string;
  event?: string;
  data: string;
}

/** An open SSE stream: the messages so far, and a way to wait for one. */
export interface SseClient {
  status: number;
  headers: IncomingHttpHeaders;
  messages: SseMessage[];
  closed: boolean;
  waitFor(what: string, match: (m: SseMessage) => boolean, timeoutMs?: number): Promise<SseMessage>;
  close(): void;
}

export function sse(port: number, path: string, call: HttpCall = {}): Promise<SseClient> {
  const headers: Record<string, string> = { Accept: 'text/event-stream', ...call.headers };
  if (call.token) headers.Authorization = `Bearer ${call.token}`;
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers, agent: false }, (res) => {
      let buffered = '';
      const client: SseClient = {
        status: res.statusCode ?? 0,
        headers: res.headers,
        messages: [],
        closed: false,
        waitFor: (what, match, timeoutMs = 10_000) =>
          waitFor(() => `SSE ${what} on ${path}; got:\n${client.messages.map((m) => JSON.stringify(m)).join('\n')}`, () => client.messages.find(match), { timeoutMs }),
        close: () => req.destroy(),
      };
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffered += chunk;
        let end: number;
        while ((end = buffered.indexOf('\n\n')) >= 0) {
          const block = buffered.slice(0, end);
          buffered = buffered.slice(end + 2);
          const message: SseMessage = { data: '' };
          let hasData = false;
          for (const line of block.split('\n')) {
            const colon = line.indexOf(':');
            const field = line.slice(0, colon);
            const value = line.slice(colon + 1).replace(/^ /, '');
            if (field === 'data') {
              message.data = hasData ? `${message.data}\n${value}` : value;
              hasData = true;
            } else if (field === 'id') message.id = value;
            else if (field === 'event') message.event = value;
          }
          if (hasData) client.messages.push(message);
        }
      });
      res.on('close', () => (client.closed = true));
      resolve(client);
    });
    req.on('error', reject);
    req.end();
  });
}
