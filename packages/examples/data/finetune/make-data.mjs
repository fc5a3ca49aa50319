// Writes the small fine-tuning example sets in this folder (generated for tfgpt; no third-party
// text): messages.csv (labelled texts like the book's SMS spam collection: "ham" and "spam"
// messages from templates) and instructions.json (instruction/input/output entries in the book's
// instruction-data.json layout). Deterministic: `node make-data.mjs` rewrites the same files.
// The book's real sets: https://archive.ics.uci.edu/static/public/228/sms+spam+collection.zip and
// https://raw.githubusercontent.com/rasbt/LLMs-from-scratch/main/ch07/01_main-chapter-code/instruction-data.json
import { writeFileSync } from "node:fs";

let state = 20;
const rand = () => ((state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32);
const pick = (list) => list[Math.floor(rand() * list.length)];

const names = ["Anna", "Ben", "Clara", "Dev", "Eli", "Fay", "Gus", "Hana", "Ivo", "Jo"];
const places = ["the library", "the station", "home", "the park", "work", "the cafe", "school"];
const times = ["at six", "tomorrow", "after lunch", "tonight", "on Friday", "in ten minutes"];
const ham = [
  () => `Hey ${pick(names)}, are we still meeting at ${pick(places)} ${pick(times)}?`,
  () => `I'm leaving ${pick(places)} now, see you ${pick(times)}.`,
  () => `Can you pick up some bread on the way to ${pick(places)}?`,
  () => `Thanks for dinner ${pick(times)}, it was lovely.`,
  () => `${pick(names)} says hi. Call me when you get to ${pick(places)}.`,
  () => `Running late, I'll be at ${pick(places)} ${pick(times)}.`,
  () => `Did you finish the book? Let's talk about it ${pick(times)}.`,
];
const prizes = ["a free holiday", "1000 pounds cash", "a new phone", "a gift card", "free ringtones"];
const spam = [
  () => `WINNER! You have won ${pick(prizes)}. Call 0800 ${100 + Math.floor(rand() * 900)} now to claim!`,
  () => `URGENT: your account has a prize of ${pick(prizes)}. Text CLAIM to 8${Math.floor(rand() * 9000 + 1000)}.`,
  () => `Congratulations! Claim ${pick(prizes)} today. Reply YES, cost 1.50 per msg.`,
  () => `FREE entry to win ${pick(prizes)}! Text WIN to 8${Math.floor(rand() * 9000 + 1000)} now.`,
  () => `You are selected for ${pick(prizes)}. Call now, offer ends ${pick(times)}!`,
];
const quote = (s) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
const rows = ["text,label"];
for (let i = 0; i < 300; i++) {
  const isSpam = rand() < 0.3; // imbalanced, as the real collection (balance with --balance)
  rows.push(`${quote(pick(isSpam ? spam : ham)())},${isSpam ? "spam" : "ham"}`);
}
writeFileSync("messages.csv", rows.join("\n") + "\n");

const words = ["apple", "river", "stone", "cloud", "garden", "window", "candle", "bridge", "forest", "letter"];
const colours = ["red", "blue", "green", "yellow", "white", "black"];
const entries = [];
for (const w of words) {
  entries.push({ instruction: "Write the plural of the given word.", input: w, output: `The plural of "${w}" is "${w}s".` });
  entries.push({ instruction: "Convert the word to uppercase.", input: w, output: w.toUpperCase() });
  entries.push({ instruction: `Use the word "${w}" in a short sentence.`, input: "", output: `The ${w} was ${pick(colours)} in the morning light.` });
}
for (const c of colours) {
  entries.push({ instruction: "Name the colour in the sentence.", input: `The ${pick(words)} is ${c}.`, output: `The colour is ${c}.` });
}
for (let a = 1; a <= 6; a++) {
  entries.push({ instruction: "Add the two numbers.", input: `${a} and ${a + 2}`, output: `${a} + ${a + 2} = ${2 * a + 2}` });
}
writeFileSync("instructions.json", JSON.stringify(entries, null, 4) + "\n");
