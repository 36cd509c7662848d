// `cnnc serve`'s server: it listens on 127.0.0.1 only, answers only requests addressed there, and
// serves no file outside the model's folder and the data folder (paths with `..`, absolute paths,
// encoded slashes, symbolic links leading out).
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Served, startServer } from '../../runtime/serve/server.ts';
import { cnncInProcess } from '../helpers/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'cnnc-serve-'));
const models = join(dir, 'models');
const data = join(dir, 'data');
const secret = join(dir, 'secret.cnn');
let served: Served;
let port: number;

beforeAll(async () => {
  mkdirSync(models);
  mkdirSync(data);
  writeFileSync(join(models, 'main.cnn'), 'import "parts.cnn"\nmodel M {\n  input [4]\n  linear(2)\n}\n');
  writeFileSync(join(models, 'parts.cnn'), 'block B() {\n  relu\n}\n');
  writeFileSync(secret, 'block Secret() {\n  relu\n}\n');
  writeFileSync(join(data, 'train-labels-idx1-ubyte'), new Uint8Array([0, 0, 8, 1, 0, 0, 0, 0]));
  // Links inside the served folders that lead out of them.
  symlinkSync(secret, join(models, 'link.cnn'));
  symlinkSync(secret, join(data, 'link'));
  served = await startServer({ file: join(models, 'main.cnn'), dataDir: data, port: 0, script: '// app' });
  port = Number(new URL(served.url).port);
});
afterAll(async () => {
  await served?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A raw GET: the path is sent as written (no `..` folding by a URL parser). */
function get(path: string, host = `127.0.0.1:${port}`, method = 'GET'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers: { host } }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => {
        body += c.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const fileUrl = (path: string): string => `/api/file?path=${encodeURIComponent(path)}`;

describe('cnnc serve', () => {
  it('listens on 127.0.0.1 and nowhere else', async () => {
    expect(new URL(served.url).hostname).toBe('127.0.0.1');
    const others = Object.values(networkInterfaces())
      .flat()
      .filter((a) => a !== undefined && !a.internal && a.family === 'IPv4')
      .map((a) => a!.address);
    // 127.0.0.2 reaches this machine too (all of 127/8 does): a wildcard bind would answer there,
    // so the check holds on a machine with no external interface.
    for (const address of [...others, '127.0.0.2']) {
      const refused = await new Promise<boolean>((resolve) => {
        const s = connect({ host: address, port }, () => {
          s.destroy();
          resolve(false);
        });
        s.on('error', () => resolve(true));
      });
      expect(refused, `connected on ${address}:${port}`).toBe(true);
    }
    // The command has no option that would bind another interface.
    const r = await cnncInProcess('serve', '--host', '0.0.0.0');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('unknown option --host');
  });

  it('says so when the port is taken', async () => {
    await expect(startServer({ file: null, dataDir: data, port, script: '' })).rejects.toThrow(
      `cannot listen on 127.0.0.1:${port}: the port is in use (--port N, or --port 0 for a free one)`,
    );
  });

  it('answers only requests addressed to 127.0.0.1, and only GET', async () => {
    expect((await get('/', 'evil.example')).status).toBe(403);
    expect((await get('/', `localhost:${port}`)).status).toBe(200);
    expect((await get('/', undefined, 'POST')).status).toBe(405);
    expect((await get('/app.js')).body).toBe('// app');
  });

  it("serves the model and the files it imports from the model's folder", async () => {
    const session = JSON.parse((await get('/api/session')).body);
    expect(session.model.path).toBe(join(models, 'main.cnn'));
    expect(JSON.parse((await get(fileUrl(join(models, 'parts.cnn')))).body)).toEqual({
      text: 'block B() {\n  relu\n}\n',
    });
    // A missing import is the compiler's to report, with the CLI's reason.
    expect(JSON.parse((await get(fileUrl(join(models, 'absent.cnn')))).body).error).toContain(
      'no such file or directory',
    );
  });

  it("serves no file outside the model's folder", async () => {
    for (const path of [secret, join(models, '..', 'secret.cnn'), join(models, 'link.cnn'), '/etc/passwd', models]) {
      const r = await get(fileUrl(path));
      expect(r.status, path).toBe(403);
      expect(r.body).not.toContain('Secret');
    }
  });

  it('serves no file outside the data folder', async () => {
    expect((await get('/data/train-labels-idx1-ubyte')).status).toBe(200);
    // A `..` in the raw path is folded away by the URL parser first (a 404 for /secret.cnn).
    for (const path of [
      '/data/../secret.cnn',
      '/data/..%2fsecret.cnn',
      '/data/%2e%2e/secret.cnn',
      '/data/link',
      '/data/',
    ]) {
      const r = await get(path);
      expect([403, 404], path).toContain(r.status);
      expect(r.body).not.toContain('Secret');
    }
  });
});
