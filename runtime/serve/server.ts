// The playground's HTTP server: the page and its script, the model's text, the files it imports
// (from the model's folder only) and the IDX data files (from the data folder only). It listens on
// 127.0.0.1 alone, answers only requests addressed to that host (a page of another site cannot
// reach it through a DNS name that resolves there) and only GET.
import { realpathSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { readImport, readSource } from '../cli/io.ts';
import { splitFiles } from '../data/dataset.ts';
import { UserError } from '../errors.ts';
import { readInputFile } from '../input-file.ts';
import { PAGE } from './page.ts';
import type { DataFile, Session } from './session.ts';

/** The one interface the playground listens on: the page reaches the data and the files beside the model. */
export const HOST = '127.0.0.1';

export interface ServeOptions {
  /** The model as the user named it, or null: the page starts from an example. */
  readonly file: string | null;
  /** The IDX folder (train's default or --data). */
  readonly dataDir: string;
  readonly port: number;
  /** The page's bundled script. */
  readonly script: string;
}

export interface Served {
  readonly url: string;
  close(): Promise<void>;
}

const within = (folder: string, path: string): boolean => {
  const rel = relative(folder, path);
  return rel !== '' && rel.split(sep)[0] !== '..' && !isAbsolute(rel);
};

/**
 * Whether `path` (from the working directory) lies inside `folder`: by its real path, so a symbolic
 * link cannot lead out; a path that does not exist by its text (reading it then says so).
 */
function inside(folder: string, path: string): boolean {
  let real: string;
  try {
    real = realpathSync(path);
  } catch {
    return within(resolve(folder), resolve(path));
  }
  return within(realpathSync(folder), real);
}

function session(o: ServeOptions): Session {
  const model = o.file === null ? null : { path: o.file, text: readSource(o.file) };
  try {
    const file = (path: string): DataFile => ({
      path,
      url: `/data/${relative(o.dataDir, path).split(sep).map(encodeURIComponent).join('/')}`,
    });
    const split = (s: 'train' | 'test') => {
      const { imagesPath, labelsPath } = splitFiles(o.dataDir, s);
      return { images: file(imagesPath), labels: file(labelsPath) };
    };
    return { model, data: { train: split('train'), test: split('test') } };
  } catch (e) {
    if (e instanceof UserError) return { model, data: { error: e.message } };
    throw e;
  }
}

/** A response: its status, content type and body. */
interface Reply {
  readonly status: number;
  readonly type: string;
  readonly body: string | Uint8Array;
}

const text = (status: number, body: string): Reply => ({ status, type: 'text/plain; charset=utf-8', body });
const json = (status: number, value: unknown): Reply => ({
  status,
  type: 'application/json',
  body: JSON.stringify(value),
});

function reply(o: ServeOptions, req: IncomingMessage): Reply {
  const port = (req.socket.localPort ?? 0).toString();
  if (req.headers.host !== `${HOST}:${port}` && req.headers.host !== `localhost:${port}`)
    return text(403, 'cnnc serve answers only requests to 127.0.0.1\n');
  if (req.method !== 'GET' && req.method !== 'HEAD') return text(405, 'only GET\n');
  const url = new URL(req.url ?? '/', `http://${HOST}`);
  if (url.pathname === '/') return { status: 200, type: 'text/html; charset=utf-8', body: PAGE };
  if (url.pathname === '/app.js') return { status: 200, type: 'text/javascript; charset=utf-8', body: o.script };
  if (url.pathname === '/api/session') return json(200, session(o));
  if (url.pathname === '/api/file') {
    // An import, by the path the compiler resolved (relative to the model's path, as the CLI's).
    const path = url.searchParams.get('path') ?? '';
    const modelDir = dirname(resolve(o.file ?? 'model.cnn'));
    if (!inside(modelDir, path))
      return json(403, { error: `${path} is outside the model's folder ${modelDir}, which cnnc serve serves` });
    const read = readImport(path);
    return json(200, typeof read === 'string' ? { text: read } : read);
  }
  if (url.pathname.startsWith('/data/')) {
    const rel = url.pathname.slice('/data/'.length).split('/').map(decodeURIComponent).join(sep);
    const path = resolve(o.dataDir, rel);
    if (!inside(o.dataDir, path)) return text(403, `not in the data folder ${o.dataDir}\n`);
    try {
      return { status: 200, type: 'application/octet-stream', body: readInputFile(path) };
    } catch (e) {
      if (e instanceof UserError) return text(404, `${e.message}\n`);
      throw e;
    }
  }
  return text(404, 'not found\n');
}

/** Starts the server on 127.0.0.1:port (0: a free port); rejects with a UserError when the port is taken. */
export function startServer(o: ServeOptions): Promise<Served> {
  const server = createServer((req, res) => {
    let r: Reply;
    try {
      r = reply(o, req);
    } catch (e) {
      // A bad request must not take the playground down: the page shows the message.
      r = text(500, `${e instanceof Error ? e.message : String(e)}\n`);
    }
    res.writeHead(r.status, {
      'content-type': r.type,
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    });
    res.end(r.body);
  });
  return new Promise((resolvePromise, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(
        e.code === 'EADDRINUSE' || e.code === 'EACCES'
          ? new UserError(
              `cannot listen on ${HOST}:${o.port}: ${e.code === 'EACCES' ? 'permission denied' : 'the port is in use'} (--port N, or --port 0 for a free one)`,
            )
          : e,
      ),
    );
    server.listen(o.port, HOST, () => {
      const { port } = server.address() as AddressInfo;
      resolvePromise({
        url: `http://${HOST}:${port}/`,
        close: () =>
          new Promise((done) => {
            server.close(() => done());
            // The page's keep-alive connections would hold the close open.
            server.closeAllConnections();
          }),
      });
    });
  });
}
