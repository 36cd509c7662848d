// What the page reads from `cnnc serve`: the session (the model, the data files), the files a model
// imports (a synchronous read: the compiler's readFile is synchronous) and the IDX data files,
// decompressed here and parsed by the runtime's IDX parser.
import type { ReadFile } from '../../compiler/imports.ts';
import { type IdxBytes, isGzip, namedBytes, parseIdxImages, parseIdxLabels } from '../../runtime/data/idx-format.ts';
import { type Dataset, pairSplit, type Split } from '../../runtime/data/split.ts';
import type { DataFile, Session } from '../../runtime/serve/session.ts';

export type { Session };

export async function fetchSession(): Promise<Session> {
  const res = await fetch('/api/session');
  if (!res.ok) throw new Error(`cnnc serve: ${res.status} ${await res.text()}`);
  return (await res.json()) as Session;
}

/** An import, read through the server (which serves only the model's folder), as the CLI reads it. */
export const readImport: ReadFile = (path) => {
  const req = new XMLHttpRequest();
  req.open('GET', `/api/file?path=${encodeURIComponent(path)}`, false);
  req.send();
  const body = JSON.parse(req.responseText) as { text: string } | { error: string };
  return 'text' in body ? body.text : body;
};

/** A data file's bytes, gunzipped when they start with the gzip magic, named as the CLI names offsets. */
async function idxBytes(file: DataFile): Promise<IdxBytes> {
  const res = await fetch(file.url);
  if (!res.ok) throw new Error(`${file.path}: ${(await res.text()).trim()}`);
  const raw = new Uint8Array(await res.arrayBuffer());
  if (!isGzip(raw)) return namedBytes(file.path, raw, false);
  const stream = new Blob([raw]).stream().pipeThrough(new DecompressionStream('gzip'));
  return namedBytes(file.path, new Uint8Array(await new Response(stream).arrayBuffer()), true);
}

/** One split of the served data set, as dataset.ts loads it under Node. */
export async function fetchSplit(
  files: { images: DataFile; labels: DataFile },
  split: Split,
  numClasses: number,
): Promise<Dataset> {
  const [images, labels] = await Promise.all([idxBytes(files.images), idxBytes(files.labels)]);
  return pairSplit(
    split,
    parseIdxImages(images),
    files.images.path,
    parseIdxLabels(labels, numClasses),
    files.labels.path,
  );
}
