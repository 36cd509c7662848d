// The one error a `cnnc export --web` bundle throws: its files, the device or the input, said in
// words (a page shows the message; nothing here is a bug of the caller's code but a wrong input).

export class BundleError extends Error {
  override name = 'BundleError';
}
