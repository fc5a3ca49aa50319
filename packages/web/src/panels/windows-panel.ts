import { GPTDataset } from "@tfgpt/datasets";
import type { AppState } from "../app-state.js";
import { card, field, h, numberInput, readNumber } from "../dom.js";
import { tokenizerFor, visible, type TokenizerName } from "../tokenizer-choice.js";

/** Columns drawn at most in the sliding-window strip (wider settings show the id matrices only). */
const MAX_COLUMNS = 40;

/**
 * The sliding-windows panel, as chapter 2's notebook builds them: `GPTDataset` cuts the ids into
 * inputs `ids[s, s+maxLength)` and targets shifted by one, with window `i` starting at
 * `s = i * stride`. Shows the next-token pairs of the first window, a strip where each window's
 * input and target rows are highlighted, and the first batch as id matrices.
 * Returns the panel and a function to switch the tokenizer.
 */
export function windowsPanel(state: AppState): { element: HTMLElement; setTokenizer: (name: TokenizerName) => void } {
  const root = card(
    "windows",
    "2 · Sliding windows",
    "A GPT learns to predict the next token: each input window is paired with the same window shifted one token right. stride is the step between window starts.",
  );
  const maxLength = numberInput("max-length", 4, 1, 1024);
  const stride = numberInput("stride", 1, 1, 1024);
  const rows = numberInput("window-rows", 6, 1, 32);
  const tokenizerLabel = h("span", { class: "pill", "data-testid": "windows-tokenizer" });
  const summary = h("p", { class: "stats", "data-testid": "windows-summary" });
  const pairs = h("div", { class: "pairs mono", "data-testid": "windows-pairs" });
  const strip = h("div", { class: "strip-wrap" });
  const matrices = h("div", { class: "matrices mono", "data-testid": "windows-matrices" });
  root.append(
    h("div", { class: "controls" }, field("maxLength", maxLength), field("stride", stride), field("windows shown", rows), h("span", { class: "field" }, h("span", {}, "tokenizer"), tokenizerLabel)),
    summary,
    h("h3", {}, "Next-token pairs in the first window"),
    pairs,
    h("h3", {}, "Windows over the token stream"),
    h("p", { class: "legend" }, h("span", { class: "key x" }, "input x"), h("span", { class: "key y" }, "target y"), " Each window is two rows: the input and, one token to the right, its target."),
    strip,
    h("h3", {}, "The first batch, as the data loader returns it"),
    matrices,
  );

  let tokenizerName: TokenizerName = "gpt2";

  const render = () => {
    tokenizerLabel.textContent = tokenizerName;
    pairs.replaceChildren();
    strip.replaceChildren();
    matrices.replaceChildren();
    const text = state.text;
    if (text === "") {
      summary.textContent = "Paste a text above.";
      return;
    }
    const tokenizer = tokenizerFor(tokenizerName, text);
    const ids = tokenizer.encode(text, { disallowedSpecial: [] });
    const L = readNumber(maxLength);
    const S = readNumber(stride);
    let dataset: GPTDataset;
    try {
      dataset = new GPTDataset(ids, { maxLength: L, stride: S });
    } catch (error) {
      summary.textContent = error instanceof Error ? error.message : String(error);
      summary.classList.add("error");
      return;
    }
    summary.classList.remove("error");
    const shown = Math.min(readNumber(rows), dataset.length);
    summary.textContent = `${ids.length.toLocaleString("en")} tokens → ${dataset.length.toLocaleString("en")} windows of ${L} tokens (starts 0, ${S}, ${2 * S}, …; the last token of the text is only ever a target).`;
    const piece = (id: number) => visible(tokenizer.decode([id]));

    // The notebook's "context ----> desired" listing, ids then text.
    const first = dataset.get(0);
    const input = Array.from(first.input);
    const target = Array.from(first.target);
    for (let i = 1; i <= Math.min(L, 12); i++) {
      const context = input.slice(0, i);
      const desired = target[i - 1] as number;
      pairs.append(
        h("div", { class: "pair" }, h("span", { class: "ctx" }, `[${context.join(", ")}]`), h("span", { class: "arrow" }, " ----> "), h("span", { class: "want" }, String(desired))),
        h("div", { class: "pair text" }, h("span", { class: "ctx" }, tokenizer.decode(context)), h("span", { class: "arrow" }, " ----> "), h("span", { class: "want" }, tokenizer.decode([desired]))),
      );
    }

    // The strip: token columns, two rows per window.
    const columns = (shown - 1) * S + L + 1;
    if (columns <= MAX_COLUMNS) {
      const table = h("table", { class: "strip", "data-testid": "windows-strip" });
      const head = h("tr", {}, h("th", {}, "position"));
      const tokens = h("tr", {}, h("th", {}, "token"));
      for (let c = 0; c < columns; c++) {
        head.append(h("td", { class: "pos" }, String(c)));
        const id = ids[c] as number;
        tokens.append(h("td", { class: "tokcell", title: `id ${id}` }, h("span", { class: "piece" }, piece(id)), h("span", { class: "id" }, String(id))));
      }
      table.append(head, tokens);
      for (let w = 0; w < shown; w++) {
        const start = dataset.start(w);
        for (const [kind, from] of [["x", start], ["y", start + 1]] as const) {
          const row = h("tr", { class: `win ${kind}` }, h("th", {}, `${kind}${w} (s=${start})`));
          for (let c = 0; c < columns; c++) {
            const inside = c >= from && c < from + L;
            row.append(h("td", { class: inside ? `on ${kind}` : "off" }, inside ? String(ids[c]) : ""));
          }
          table.append(row);
        }
      }
      strip.append(table);
    } else {
      strip.append(h("p", { class: "note" }, `The strip is drawn for up to ${MAX_COLUMNS} tokens; lower maxLength, stride or the windows shown to see it.`));
    }

    // The batch as two matrices, like the notebook's printed tensors.
    const matrix = (label: string, pick: (w: number) => ArrayLike<number>) => {
      const lines = [];
      for (let w = 0; w < shown; w++) {
        const row = Array.from(pick(w));
        const cells = row.slice(0, 16).map((v) => String(v).padStart(6));
        lines.push(`  [${cells.join(",")}${row.length > 16 ? ", …" : ""}]`);
      }
      return h("div", { class: "matrix" }, h("div", { class: "mlabel" }, label), h("pre", {}, `[\n${lines.join(",\n")}\n]`));
    };
    matrices.append(
      matrix(`Inputs  [${shown}, ${L}]`, (w) => dataset.get(w).input),
      matrix(`Targets [${shown}, ${L}]`, (w) => dataset.get(w).target),
    );
  };

  for (const input of [maxLength, stride, rows]) input.addEventListener("input", render);
  state.onText(render);
  render();
  return {
    element: root,
    setTokenizer: (name) => {
      tokenizerName = name;
      render();
    },
  };
}
