// Where a bundle's files come from: over fetch (a page: URLs resolve against the page), or, under
// Node, from a directory path or a file: URL. node: modules are imported only in that branch, so a
// browser never asks for them.
import { BundleError } from './bundle-error.ts';

/** Reads one file of the bundle as bytes; the message of a failure names the file. */
export type ReadBundleFile = (name: string) => Promise<Uint8Array>;

const SCHEME = /^[a-z][a-z\d+.-]*:/i;

/** A reader for the bundle at `base` (a directory: its trailing slash is optional). */
export async function bundleReader(base: string | URL): Promise<ReadBundleFile> {
  const page = (globalThis as { location?: { href: string } }).location?.href;
  const text = String(base);
  const dir = text.endsWith('/') ? text : `${text}/`;
  const isFile = text.startsWith('file:') || (page === undefined && !SCHEME.test(text));
  if (isFile) {
    const { readFile } = await import('node:fs/promises');
    const { pathToFileURL } = await import('node:url');
    const root = dir.startsWith('file:') ? new URL(dir) : pathToFileURL(dir);
    return async (name) => {
      const url = new URL(name, root);
      try {
        return await readFile(url);
      } catch (e) {
        throw new BundleError(`cannot read ${decodeURIComponent(url.pathname)}: ${(e as Error).message}`);
      }
    };
  }
  const root = new URL(dir, page);
  return async (name) => {
    const url = new URL(name, root);
    let response: Response;
    try {
      response = await fetch(url);
    } catch (e) {
      throw new BundleError(`cannot fetch ${url.href}: ${(e as Error).message}`);
    }
    if (!response.ok) throw new BundleError(`cannot fetch ${url.href}: HTTP ${response.status} ${response.statusText}`);
    return new Uint8Array(await response.arrayBuffer());
  };
}
