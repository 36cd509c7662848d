// The playground's page: its elements and style. The script (web/playground/, bundled) fills them.
export const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>cnnc playground</title>
<link rel="icon" href="data:,">
<style>
  body { margin: 0; font: 14px system-ui, sans-serif; color: #222; background: #fafafa; }
  header { padding: 6px 12px; background: #1f3b57; color: #fff; display: flex; gap: 16px; align-items: baseline; }
  header h1 { font-size: 16px; margin: 0; }
  #status { font-size: 12px; opacity: 0.85; }
  main { display: grid; grid-template-columns: minmax(360px, 1fr) minmax(420px, 1.2fr); gap: 12px; padding: 12px; }
  .editor { position: relative; height: 60vh; border: 1px solid #bbb; background: #fff; overflow: hidden; }
  .editor pre, .editor textarea { position: absolute; inset: 0; margin: 0; padding: 8px; border: 0;
    font: 13px/18px ui-monospace, monospace; white-space: pre; overflow: auto; tab-size: 2; box-sizing: border-box; }
  .editor textarea { color: transparent; background: transparent; caret-color: #000; resize: none; outline: none; }
  .editor pre { pointer-events: none; }
  .tok-keyword { color: #7a1fa2; font-weight: 600; } .tok-number { color: #0b6e4f; }
  .tok-string { color: #a0522d; } .tok-comment { color: #888; font-style: italic; } .tok-layer { color: #1d5fa8; }
  .squiggle { text-decoration: underline wavy #d00; text-decoration-skip-ink: none; }
  .squiggle.warning { text-decoration-color: #c80; }
  .line-mark { background: #fff3b0; }
  #diagnostics { list-style: none; padding: 0; margin: 8px 0; font: 12px ui-monospace, monospace; }
  #diagnostics li { padding: 2px 4px; cursor: pointer; white-space: pre-wrap; }
  #diagnostics li.error { color: #b00; } #diagnostics li.warning { color: #a60; }
  nav button { font: inherit; padding: 4px 10px; border: 1px solid #bbb; background: #eee; cursor: pointer; }
  nav button[aria-selected="true"] { background: #fff; border-bottom-color: #fff; font-weight: 600; }
  section.tab { border: 1px solid #bbb; background: #fff; padding: 8px; min-height: 60vh; overflow: auto; max-height: 80vh; }
  table { border-collapse: collapse; font: 12px ui-monospace, monospace; }
  td, th { padding: 2px 8px; text-align: right; border-bottom: 1px solid #eee; } td:first-child, th:first-child, td.op { text-align: left; }
  pre.kernel { background: #f4f4f4; padding: 6px; font: 11px/14px ui-monospace, monospace; overflow-x: auto; }
  .layer-links a { margin-right: 6px; }
  a { color: #1d5fa8; cursor: pointer; }
  .controls { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; margin-bottom: 8px; }
  .controls input[type=number] { width: 6em; }
  #plot { border: 1px solid #ddd; max-width: 100%; }
  #log { font: 12px ui-monospace, monospace; white-space: pre-wrap; margin: 6px 0; }
  #predictions { display: flex; flex-wrap: wrap; gap: 8px; }
  .prediction { font: 11px ui-monospace, monospace; text-align: center; }
  .prediction canvas { width: 56px; height: 56px; image-rendering: pixelated; display: block; margin: 0 auto; }
  .prediction .wrong { color: #b00; }
</style>
</head>
<body>
<header><h1>cnnc playground</h1><span id="file"></span><span id="status"></span></header>
<main>
  <div>
    <div class="editor"><pre id="highlight" aria-hidden="true"></pre><textarea id="source" spellcheck="false" autocomplete="off"></textarea></div>
    <ul id="diagnostics"></ul>
  </div>
  <div>
    <nav>
      <button data-tab="train" aria-selected="true">Train</button>
      <button data-tab="summary">Summary</button>
      <button data-tab="graph">Graph</button>
      <button data-tab="kernels">Kernels</button>
    </nav>
    <section class="tab" id="tab-train">
      <div class="controls">
        <label>steps <input type="number" id="steps" min="1" placeholder="all"></label>
        <label>epochs <input type="number" id="epochs" min="1"></label>
        <label>val limit <input type="number" id="val-limit" min="1" placeholder="all"></label>
        <label>init <input type="file" id="init" accept=".safetensors"></label>
        <button id="train">Train</button>
        <button id="stop" disabled>Stop</button>
        <a id="save" hidden>Save weights</a>
      </div>
      <div id="log"></div>
      <canvas id="plot"></canvas>
      <h3>Predictions on test images</h3>
      <div id="predictions"></div>
    </section>
    <section class="tab" id="tab-summary" hidden></section>
    <section class="tab" id="tab-graph" hidden></section>
    <section class="tab" id="tab-kernels" hidden>
      <div class="controls">
        <label><input type="checkbox" id="subgroups"> subgroups (kernels for a device with subgroups of 8+ lanes, as <code>--subgroups</code>)</label>
      </div>
      <div id="kernels"></div>
    </section>
  </div>
</main>
<script type="module" src="/app.js"></script>
</body>
</html>
`;
