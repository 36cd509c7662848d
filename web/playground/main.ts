// The playground page: the editor analysed as you type (the CLI's front end: the same diagnostics),
// the summary, graph and kernel views, and training in the browser.
import { renderDiagnostic } from '../../compiler/diagnostics/render.ts';
import { analyze, CompileError, type FrontendResult } from '../../compiler/index.ts';
import type { Model } from '../../runtime/model.ts';
import { UserError } from '../../runtime/errors.ts';
import { byId, el } from './dom.ts';
import { highlight, lineRange, reveal } from './editor.ts';
import { fetchSession, readImport, type Session } from './server.ts';
import { runTraining, type RunSettings } from './training.ts';
import { compileKernels, graphView, kernelsView, summaryView } from './views.ts';

/** Without a FILE, the page starts from this model (d2l's LeNet). */
const EXAMPLE = `model LeNet(num_classes = 10) {
  input [1, 28, 28]
  conv(6, kernel = 5, padding = 2) sigmoid
  avgpool(2, stride = 2)
  conv(16, kernel = 5) sigmoid
  avgpool(2, stride = 2)
  flatten
  linear(120) sigmoid
  linear(84) sigmoid
  linear(num_classes)
}

train {
  data fashion_mnist
  batch 128  epochs 10
  optimizer sgd(lr = 0.1)
  init xavier_uniform
  loss cross_entropy
}
`;

const area = byId<HTMLTextAreaElement>('source');
const shade = byId<HTMLPreElement>('highlight');
const status = byId('status');
const log = byId('log');

let session: Session;
let path = 'model.cnn';

/** Jumps to `file:line:col` of the edited file (other files' locations are only shown). */
function goTo(location: string): void {
  const m = /^(.*):(\d+):(\d+)/.exec(location);
  if (!m || m[1] !== path) return;
  const [start] = lineRange(area.value, Number(m[2]));
  reveal(area, start + Number(m[3]) - 1, lineRange(area.value, Number(m[2]))[1]);
}

function showTab(name: string): void {
  for (const b of document.querySelectorAll<HTMLButtonElement>('nav button'))
    b.setAttribute('aria-selected', String(b.dataset['tab'] === name));
  for (const s of document.querySelectorAll<HTMLElement>('section.tab')) s.hidden = s.id !== `tab-${name}`;
}

/** What `cnnc check` runs: the front end, with imports read through the server. */
const check = (text: string): FrontendResult => analyze(path, text, { readFile: readImport });

function refresh(): void {
  const text = area.value;
  const front = check(text);
  const diagnostics = front.diagnostics.all;
  shade.innerHTML = highlight(text, path, diagnostics);
  byId('diagnostics').replaceChildren(
    ...diagnostics.map((d) => {
      const at = d.span ? d.span.file.position(d.span.start) : null;
      const li = el(
        'li',
        {
          class: d.severity,
          'data-code': d.code,
          'data-file': d.span?.file.path ?? '',
          'data-line': String(at?.line ?? 0),
          'data-col': String(at?.col ?? 0),
        },
        renderDiagnostic(d),
      );
      if (d.span && d.span.file.path === path) {
        const span = d.span;
        li.addEventListener('click', () => reveal(area, span.start, Math.max(span.end, span.start + 1)));
      }
      return li;
    }),
  );
  // Tests wait for the analysis of what they typed.
  document.body.dataset['analysed'] = String(Number(document.body.dataset['analysed'] ?? 0) + 1);
  const ok = !front.diagnostics.hasErrors && front.shaped !== null;
  status.textContent = ok
    ? `model ${front.shaped!.model}: ok`
    : `${diagnostics.filter((d) => d.severity === 'error').length} error(s)`;
  byId('train').toggleAttribute('disabled', !ok || training);
  if (!ok) return;
  byId('tab-summary').replaceChildren(summaryView(front.shaped!, goTo));
  byId('tab-graph').replaceChildren(graphView(front.shaped!));
  try {
    const compiled = compileKernels(front, byId<HTMLInputElement>('subgroups').checked);
    byId('kernels').replaceChildren(kernelsView(compiled, goTo));
  } catch (e) {
    if (!(e instanceof CompileError)) throw e;
    byId('kernels').replaceChildren(el('pre', {}, e.message));
  }
}

let training = false;
let stop = false;
let model: Model | null = null;

const numberField = (id: string): number | null => {
  const v = byId<HTMLInputElement>(id).value;
  return v === '' ? null : Number(v);
};

async function trainClicked(): Promise<void> {
  const front = analyze(path, area.value, { readFile: readImport, forTraining: true });
  log.textContent = '';
  const say = (line: string): void => {
    log.textContent = `${line}\n${log.textContent ?? ''}`.split('\n').slice(0, 12).join('\n');
  };
  if (front.diagnostics.hasErrors || !front.train) {
    say(front.diagnostics.all.map(renderDiagnostic).join('\n\n'));
    return;
  }
  const settings: RunSettings = {
    steps: numberField('steps'),
    epochs: numberField('epochs'),
    valLimit: numberField('val-limit'),
    init: byId<HTMLInputElement>('init').files?.[0] ?? null,
  };
  training = true;
  stop = false;
  document.body.dataset['training'] = 'running';
  byId('train').toggleAttribute('disabled', true);
  byId('stop').toggleAttribute('disabled', false);
  try {
    await model?.dispose();
    model = null;
    model = await runTraining(front, session, settings, {
      log: say,
      plot: byId<HTMLCanvasElement>('plot'),
      predictions: byId('predictions'),
      save: byId<HTMLAnchorElement>('save'),
      stopRequested: () => stop,
    });
    say('done');
    document.body.dataset['training'] = 'done';
  } catch (e) {
    const known = e instanceof UserError || e instanceof CompileError;
    say(known ? (e as Error).message : `internal error (a bug in cnnc): ${(e as Error).stack ?? String(e)}`);
    document.body.dataset['training'] = 'failed';
  } finally {
    training = false;
    byId('train').toggleAttribute('disabled', false);
    byId('stop').toggleAttribute('disabled', true);
  }
}

async function start(): Promise<void> {
  session = await fetchSession();
  path = session.model?.path ?? 'model.cnn';
  area.value = session.model?.text ?? EXAMPLE;
  byId('file').textContent = path;
  if ('error' in session.data) log.textContent = `no training data: ${session.data.error}`;
  let pending = 0;
  area.addEventListener('input', () => {
    clearTimeout(pending);
    pending = window.setTimeout(refresh, 150);
  });
  area.addEventListener('scroll', () => {
    shade.scrollTop = area.scrollTop;
    shade.scrollLeft = area.scrollLeft;
  });
  byId('subgroups').addEventListener('change', refresh);
  for (const b of document.querySelectorAll<HTMLButtonElement>('nav button'))
    b.addEventListener('click', () => showTab(b.dataset['tab']!));
  byId('train').addEventListener('click', () => void trainClicked());
  byId('stop').addEventListener('click', () => {
    stop = true;
  });
  refresh();
  document.body.dataset['ready'] = 'true';
}

start().catch((e: unknown) => {
  status.textContent = `the playground failed to start: ${e instanceof Error ? e.message : String(e)}`;
});
