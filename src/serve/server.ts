// `dsllm serve`: an OpenAI-compatible HTTP server over one shared Engine (which batches every running
// request together), plus a web chat page at `/`.
//
// Built on node:http rather than a framework: there are six routes, and what matters here is direct
// control over the things frameworks hide — writing SSE chunks as tokens are made, noticing the client
// going away (the socket's 'close') to cancel its generation, and a hard body-size limit — with no
// extra dependency.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { ApiError, toApiError } from './errors.js';
import { readJsonBody } from './body.js';
import { makeContext, type ServeContext, type ServeOptions } from './context.js';
import { handleCompletions } from './completions.js';
import { handleChat } from './chat.js';
import { chatPageHtml } from './page.js';
import { sendError, sendJson } from './respond.js';

export type { ServeOptions } from './context.js';

export interface DsllmServer {
  readonly http: Server;
  readonly context: ServeContext;
  /** resolves with the bound address once listening */
  listen(port: number, host?: string): Promise<AddressInfo>;
  /** stops accepting connections and ends open ones; the engine is the caller's to close */
  close(): Promise<void>;
}

type Handler = (ctx: ServeContext, body: unknown, res: ServerResponse, signal: AbortSignal) => Promise<void>;

const POST_ROUTES: Record<string, Handler> = {
  '/v1/completions': handleCompletions,
  '/v1/chat/completions': handleChat,
};

const digest = (s: string) => createHash('sha256').update(s).digest();

export function createDsllmServer(opts: ServeOptions): DsllmServer {
  const ctx = makeContext(opts);
  const limit = opts.maxBodyBytes ?? 4 * 1024 * 1024;
  const keyDigest = opts.apiKey ? digest(opts.apiKey) : null;
  const page = chatPageHtml();

  const authorized = (req: IncomingMessage): boolean => {
    if (!keyDigest) return true;
    const m = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
    // compare digests in constant time: the key's length and content do not leak through timing
    return m !== null && timingSafeEqual(digest(m[1].trim()), keyDigest);
  };

  async function route(req: IncomingMessage, res: ServerResponse, signal: AbortSignal): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://x').pathname.replace(/\/+$/, '') || '/';
    const method = req.method ?? 'GET';
    const only = (allowed: string[]) => {
      if (!allowed.includes(method)) throw Object.assign(new ApiError(405, `${method} is not allowed on ${path} (allowed: ${allowed.join(', ')})`, { code: 'method_not_allowed' }), { allow: allowed.join(', ') });
    };
    if (path === '/' || path === '/index.html') {
      only(['GET', 'HEAD']);
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': Buffer.byteLength(page), 'Cache-Control': 'no-cache' });
      res.end(method === 'HEAD' ? undefined : page);
      return;
    }
    if (path === '/health') {
      only(['GET', 'HEAD']);
      return sendJson(res, 200, { status: 'ok', model: ctx.modelId, active: ctx.active, served: ctx.served });
    }
    if (!path.startsWith('/v1/')) throw new ApiError(404, `no route ${path}: this server has /, /health, /v1/models, /v1/completions, /v1/chat/completions`, { type: 'not_found_error', code: 'not_found' });
    if (!authorized(req)) {
      throw new ApiError(401, 'Incorrect or missing API key: send the header "Authorization: Bearer <key>" with the key the server was started with.', { type: 'authentication_error', code: 'invalid_api_key' });
    }
    if (path === '/v1/models') {
      only(['GET']);
      return sendJson(res, 200, { object: 'list', data: [modelCard(ctx)] });
    }
    if (path.startsWith('/v1/models/')) {
      only(['GET']);
      const id = decodeURIComponent(path.slice('/v1/models/'.length));
      if (id !== ctx.modelId) throw new ApiError(404, `The model '${id}' does not exist. This server serves '${ctx.modelId}'.`, { param: 'model', code: 'model_not_found' });
      return sendJson(res, 200, modelCard(ctx));
    }
    const handler = POST_ROUTES[path];
    if (!handler) throw new ApiError(404, `no route ${path}: this server has /v1/models, /v1/completions, /v1/chat/completions`, { type: 'not_found_error', code: 'not_found' });
    only(['POST']);
    const body = await readJsonBody(req, limit);
    await handler(ctx, body, res, signal);
  }

  const http = createServer((req, res) => {
    const t0 = performance.now();
    // the client hanging up before the response is complete cancels its generation
    const abort = new AbortController();
    res.on('close', () => { if (!res.writableFinished) abort.abort(); });
    route(req, res, abort.signal)
      .catch((e: unknown) => {
        const err = toApiError(e);
        const allow = (e as { allow?: string }).allow;
        const headers: Record<string, string> = allow ? { Allow: allow } : {};
        // a body we stopped reading leaves the connection in an unknown state: close it after answering
        if (err.status === 413) headers.Connection = 'close';
        sendError(res, err, headers);
        if (err.status >= 500) opts.log?.(`error: ${(e as Error)?.stack ?? String(e)}`);
      })
      .finally(() => {
        opts.log?.(`${req.method} ${req.url} ${res.statusCode} ${(performance.now() - t0).toFixed(0)}ms${abort.signal.aborted ? ' (client went away)' : ''}`);
      });
  });
  // a request the HTTP parser rejects (garbage, oversized headers) gets a 400 and its socket closed
  http.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    else socket.destroy();
  });

  return {
    http,
    context: ctx,
    listen: (port, host = '127.0.0.1') => new Promise((resolve, reject) => {
      http.once('error', reject);
      http.listen(port, host, () => {
        http.off('error', reject);
        resolve(http.address() as AddressInfo);
      });
    }),
    close: () => new Promise((resolve) => {
      http.close(() => resolve());
      http.closeAllConnections();
    }),
  };
}

function modelCard(ctx: ServeContext) {
  return { id: ctx.modelId, object: 'model', created: ctx.created, owned_by: 'dsllm', max_model_len: ctx.contextLength };
}
