// What `cnnc serve` tells the page first (GET /api/session): shared by the server and the page.
/** What the page asks for first: the model and where its data files are. */
export interface Session {
  readonly model: { readonly path: string; readonly text: string } | null;
  /** Each split's files: the path the CLI names in messages and the URL to fetch; or why there are none. */
  readonly data:
    | { readonly [split in 'train' | 'test']: { readonly images: DataFile; readonly labels: DataFile } }
    | { readonly error: string };
}

export interface DataFile {
  readonly path: string;
  readonly url: string;
}
