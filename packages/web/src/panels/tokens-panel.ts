import type { AppState } from "../app-state.js";
import { card, h } from "../dom.js";
import { TOKENIZER_NAMES, TOKENIZER_NOTES, tokenizerFor, tokenPieces, type TokenizerName } from "../tokenizer-choice.js";

/** Pieces drawn at most: the counts always cover the whole text, the colouring its start. */
const MAX_PIECES = 3000;
/** Distinct background colours cycled over consecutive tokens. */
const PALETTE_SIZE = 6;

/**
 * The tokens panel: one tab per tokenizer with its token count for the current text, the text
 * coloured token by token (hover shows the id) and the ids themselves. Calls `onSelect` with the
 * chosen tokenizer so the windows panel cuts the same ids.
 */
export function tokensPanel(state: AppState, onSelect: (name: TokenizerName) => void): HTMLElement {
  const root = card("tokens", "1 · Tokens", "The same text under five tokenizers. Each coloured piece is one token; hover a piece for its id.");
  const tabs = h("div", { class: "tabs", role: "tablist", "data-testid": "tokenizer-tabs" });
  const stats = h("p", { class: "stats", "data-testid": "token-stats" });
  const coloured = h("div", { class: "tokens", "data-testid": "tokens" });
  const ids = h("div", { class: "ids mono", "data-testid": "token-ids" });
  root.append(tabs, stats, coloured, h("h3", {}, "Token ids"), ids);

  let selected: TokenizerName = "gpt2";

  const render = () => {
    const text = state.text;
    tabs.replaceChildren();
    for (const name of TOKENIZER_NAMES) {
      let label: string;
      try {
        label = text === "" ? "0" : tokenizerFor(name, text).encode(text, { disallowedSpecial: [] }).length.toLocaleString("en");
      } catch (error) {
        label = "error";
        console.error(error);
      }
      const tab = h(
        "button",
        { class: name === selected ? "tab active" : "tab", role: "tab", "aria-selected": String(name === selected), "data-tokenizer": name, title: TOKENIZER_NOTES[name] },
        h("span", { class: "tab-name" }, name),
        h("span", { class: "tab-count", "data-testid": `count-${name}` }, label),
      );
      tab.addEventListener("click", () => {
        selected = name;
        render();
        onSelect(name);
      });
      tabs.append(tab);
    }

    coloured.replaceChildren();
    ids.replaceChildren();
    if (text === "") {
      stats.textContent = "Paste a text above.";
      return;
    }
    const tokenizer = tokenizerFor(selected, text);
    const tokenIds = tokenizer.encode(text, { disallowedSpecial: [] });
    const pieces = tokenPieces(tokenizer, tokenIds.slice(0, MAX_PIECES));
    stats.textContent = `${tokenIds.length.toLocaleString("en")} tokens · ${text.length.toLocaleString("en")} characters · ${(
      text.length / Math.max(1, tokenIds.length)
    ).toFixed(2)} characters per token · ${TOKENIZER_NOTES[selected]}`;

    const fragment = document.createDocumentFragment();
    pieces.forEach((piece, i) => {
      const shown = piece.text.replace(/\n/g, "↵\n");
      fragment.append(h("span", { class: `tok c${i % PALETTE_SIZE}`, title: `id ${piece.ids.join(", ")}`, "data-ids": piece.ids.join(" ") }, shown));
    });
    if (tokenIds.length > MAX_PIECES) fragment.append(h("span", { class: "more" }, ` … ${tokenIds.length - MAX_PIECES} more tokens`));
    coloured.append(fragment);
    ids.textContent = `[${tokenIds.slice(0, MAX_PIECES).join(", ")}${tokenIds.length > MAX_PIECES ? ", …" : ""}]`;
  };

  state.onText(render);
  render();
  return root;
}
