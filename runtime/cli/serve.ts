// `cnnc serve [FILE] [--port N] [--data DIR]`: the playground on 127.0.0.1 until Ctrl-C.
import { DEFAULT_DATA_DIR } from '../data/dataset.ts';
import { UserError } from '../errors.ts';
import { playgroundScript } from '../serve/bundle.ts';
import { startServer } from '../serve/server.ts';
import { readSource, type Output } from './io.ts';
import { DEFAULT_PORT, type Flags } from './options.ts';

export async function serveCommand(file: string, flags: Flags<'serve'>, io: Output): Promise<number> {
  const port = flags.port ?? DEFAULT_PORT;
  if (port > 65535) throw new UserError(`--port must be a port number 0..65535, got ${port}`);
  // A missing or unreadable model is reported now, not as a blank page.
  if (file !== '') readSource(file);
  const served = await startServer({
    file: file === '' ? null : file,
    dataDir: flags.data ?? DEFAULT_DATA_DIR,
    port,
    script: await playgroundScript(),
  });
  io.out(`cnnc playground: ${served.url} (Ctrl-C to stop)\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await served.close();
  return 0;
}
