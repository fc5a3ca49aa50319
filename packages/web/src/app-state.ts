/**
 * The one piece of state the panels share: the text. Panels subscribe to changes and redraw;
 * nothing else is global (the trained model lives in the training panel's trainer).
 */
export class AppState extends EventTarget {
  private current = "";

  /** The text every panel works on. */
  get text(): string {
    return this.current;
  }

  /** Replaces the text and tells the subscribers (a `"text"` event). */
  setText(text: string): void {
    if (text === this.current) return;
    this.current = text;
    this.dispatchEvent(new Event("text"));
  }

  /** Calls `listener` after every text change. */
  onText(listener: () => void): void {
    this.addEventListener("text", listener);
  }
}
