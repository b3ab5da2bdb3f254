// Requests over a real socket, for what supertest and inject() cannot send: invalid UTF-8, bodies over the limit,
// broken framing and malformed request lines.
import http from 'node:http';
import net from 'node:net';

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface HttpRequest {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
}

const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 1 });

/**
 * One request with node:http. Large bodies go on a connection of their own: the server may answer 413 and close
 * before it has read them, and the answer is still what counts.
 */
export function httpRequest(port: number, req: HttpRequest, timeoutMs = 20_000): Promise<HttpResponse> {
  const body = req.body === undefined ? undefined : Buffer.isBuffer(req.body) ? req.body : Buffer.from(req.body);
  const large = (body?.length ?? 0) > 256 * 1024;
  const headers = { ...req.headers };
  // Node would send a DELETE body unframed (neither length nor chunked): the server would read it as a new request.
  if (body && !Object.keys(headers).some((h) => /^(content-length|transfer-encoding)$/i.test(h))) headers['content-length'] = String(body.length);
  return new Promise((resolve, reject) => {
    let response: HttpResponse | undefined;
    const chunks: Buffer[] = [];
    const finish = () => resolve({ ...response!, body: Buffer.concat(chunks).toString('utf8') });
    const request = http.request(
      { host: '127.0.0.1', port, method: req.method, path: req.path, headers, agent: large ? false : keepAlive },
      (res) => {
        response = { status: res.statusCode ?? 0, headers: res.headers, body: '' };
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', finish);
        res.on('error', finish);
      },
    );
    request.setTimeout(timeoutMs, () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    request.on('error', (err) => (response ? finish() : reject(err)));
    request.end(body);
  });
}

/** Writes raw bytes on a new connection and parses the first response (Content-Length or chunked) from what comes back. */
export function rawRequest(port: number, bytes: Buffer | string, timeoutMs = 20_000): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let settled = false;
    const settle = () => {
      if (settled) return;
      const parsed = parseResponse(Buffer.concat(chunks));
      if (!parsed) return;
      settled = true;
      socket.destroy();
      resolve(parsed);
    };
    socket.setTimeout(timeoutMs, () => {
      socket.destroy();
      if (!settled) reject(new Error(`no answer within ${timeoutMs} ms`));
    });
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      settle();
    });
    socket.on('error', () => settle());
    socket.on('close', () => {
      settle();
      if (!settled) reject(new Error(`connection closed without a complete response: ${Buffer.concat(chunks).toString('latin1').slice(0, 200)}`));
    });
    socket.write(bytes);
  });
}

function parseResponse(data: Buffer): HttpResponse | null {
  const end = data.indexOf('\r\n\r\n');
  if (end < 0) return null;
  const [statusLine, ...lines] = data.subarray(0, end).toString('latin1').split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const rest = data.subarray(end + 4);
  let body: Buffer;
  if (headers['transfer-encoding'] === 'chunked') {
    const parts: Buffer[] = [];
    let at = 0;
    for (;;) {
      const eol = rest.indexOf('\r\n', at);
      if (eol < 0) return null;
      const size = parseInt(rest.subarray(at, eol).toString('latin1'), 16);
      if (size === 0) break;
      if (rest.length < eol + 2 + size) return null;
      parts.push(rest.subarray(eol + 2, eol + 2 + size));
      at = eol + 2 + size + 2;
    }
    body = Buffer.concat(parts);
  } else {
    const length = Number(headers['content-length'] ?? 0);
    if (rest.length < length) return null;
    body = rest.subarray(0, length);
  }
  return { status: Number(statusLine.split(' ')[1]), headers, body: body.toString('utf8') };
}
