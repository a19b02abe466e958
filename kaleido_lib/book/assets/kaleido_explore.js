// Sprite explorers (kaleido_lib.explore.sprite_explorer): a range input picks the frame of one sprite image,
// and each image of the grid tells its hover text (the judge's class and confidence) for that frame.
(function () {
  "use strict";
  function setup(root) {
    const meta = JSON.parse(root.dataset.meta);
    const input = root.querySelector("input[type=range]");
    const out = root.querySelector("output");
    const frame = root.querySelector(".kaleido-sprite-frame");
    const status = root.querySelector(".kaleido-sprite-status");
    const cells = [];
    for (let i = 0; i < meta.n; i++) {
      const cell = document.createElement("div");
      const row = Math.floor(i / meta.cols);
      const col = i % meta.cols;
      cell.style.cssText = "position:absolute;left:" + col * meta.cell_w + "px;top:" + row * meta.cell_h +
        "px;width:" + meta.cell_w + "px;height:" + meta.cell_h + "px";
      frame.appendChild(cell);
      cells.push(cell);
    }
    function show() {
      const k = Number(input.value);
      frame.style.backgroundPosition = "0 -" + k * meta.frame_h + "px";
      out.textContent = meta.runs[k];
      if (meta.labels) cells.forEach(function (cell, i) { cell.title = meta.labels[k][i]; });
      if (meta.notes) status.textContent = meta.notes[k];
    }
    input.addEventListener("input", show);
    show();
  }
  function all() { document.querySelectorAll(".kaleido-sprite").forEach(setup); }
  if (document.readyState !== "loading") all(); else document.addEventListener("DOMContentLoaded", all);
})();
