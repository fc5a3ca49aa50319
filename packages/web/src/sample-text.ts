import verdict from "../../examples/data/the-verdict.txt?raw";

/** Edith Wharton, "The Verdict" (1908, public domain): the chapter-2 text of the book. */
export const THE_VERDICT = verdict;

/** The story's first `count` paragraphs (blank-line separated), joined back as they were. */
export function firstParagraphs(text: string, count: number): string {
  return text.split("\n\n").slice(0, count).join("\n\n");
}

/** The built-in texts the page offers, by label. The first one is loaded at start. */
export const SAMPLE_TEXTS: ReadonlyArray<{ readonly label: string; readonly text: string }> = [
  { label: "The Verdict: first 3 paragraphs", text: firstParagraphs(verdict, 3) },
  { label: "The Verdict: first paragraph", text: firstParagraphs(verdict, 1) },
  { label: "The Verdict: whole story (20 kB)", text: verdict },
];
