// Writing plain (non-streamed) responses.
import type { ServerResponse } from 'node:http';
import type { ApiError } from './errors.js';

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** An error before streaming started is a JSON response; after, an SSE `data: {"error": …}` event. */
export function sendError(res: ServerResponse, e: ApiError, headers: Record<string, string> = {}): void {
  if (res.destroyed || res.writableEnded) return;
  if (!res.headersSent) return sendJson(res, e.status, e.toJSON(), headers);
  res.write(`data: ${JSON.stringify(e.toJSON())}\n\n`);
  res.end();
}
