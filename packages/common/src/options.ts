/**
 * The one way tfgpt packages validate an options object: a zod schema, parsed by `parseOptions`,
 * whose first problem becomes the calling package's own error class with a message that names
 * the option, the value received and what is allowed:
 *
 * - a bad value: `` `stride` must be a positive integer, received 0 ``;
 * - an unknown key: `` DataLoader has no option `batch_size` (known: batchSize, shuffle, ...) ``;
 * - not an object: `DataLoader options must be an object, received 3`.
 *
 * "What is allowed" is the failing field's `.describe()` text when it has one ("must be <text>"),
 * else the schema's own error message when it is written as a clause ("must be ...", lower case),
 * else a rendering of zod's issue ("must be a number", `must be one of "lf", "keep"`).
 */
import type { z } from "zod";

/** Builds the calling package's error: `new TokenizerError(message, option)` and the like. */
export type OptionsErrorFactory = (message: string, option: string | undefined) => Error;

/** How `parseOptions` names what is being configured and which error it throws. */
export interface ParseOptionsContext {
  /** Who is configured, e.g. `"DataLoader"`, `'getTokenizer("simple")'`; used for errors about the object itself. */
  readonly what: string;
  /** Makes the error to throw, given the message and the option at fault (when there is one). */
  readonly error: OptionsErrorFactory;
}

/** The internals of a zod 4 schema that `parseOptions` walks to find a field's description and keys. */
interface SchemaInternals {
  readonly description?: string;
  readonly _zod?: { readonly def: Record<string, unknown> & { readonly type: string } };
}

/** Wrappers whose `innerType` is the schema that matters for descriptions and keys. */
const WRAPPERS = new Set(["optional", "nullable", "default", "prefault", "nonoptional", "readonly", "catch"]);

/** The chain of schemas from `schema` down through its wrappers (optional, default, pipe, lazy...). */
function unwrapChain(schema: unknown): SchemaInternals[] {
  const chain: SchemaInternals[] = [];
  let s = schema as SchemaInternals | undefined;
  while (s !== undefined && chain.length < 32) {
    chain.push(s);
    const def = s._zod?.def;
    if (def === undefined) break;
    if (WRAPPERS.has(def.type)) s = def.innerType as SchemaInternals;
    else if (def.type === "pipe") s = def.in as SchemaInternals;
    else if (def.type === "lazy") s = (def.getter as () => SchemaInternals)();
    else break;
  }
  return chain;
}

/** The field schema reached by one path step from `schema`, if it can be known. */
function child(schema: unknown, key: PropertyKey): unknown {
  for (const s of unwrapChain(schema)) {
    const def = s._zod?.def;
    if (def?.type === "object") return (def.shape as Record<PropertyKey, unknown>)[key];
    if (def?.type === "array") return def.element;
    if (def?.type === "record") return def.valueType;
  }
  return undefined;
}

/** The keys an object schema knows, or `undefined` when `schema` is not (only) an object. */
function knownKeys(schema: unknown): string[] | undefined {
  for (const s of unwrapChain(schema)) {
    const def = s._zod?.def;
    if (def?.type === "object") return Object.keys(def.shape as object);
  }
  return undefined;
}

function descriptionOf(schema: unknown): string | undefined {
  for (const s of unwrapChain(schema)) if (s.description !== undefined) return s.description;
  return undefined;
}

function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let v = value;
  for (const key of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<PropertyKey, unknown>)[key];
  }
  return v;
}

/** A short, readable rendering of a received value: strings quoted, arrays and objects as (cut) JSON. */
export function describeValue(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (typeof value === "number" || typeof value === "bigint" || typeof value === "boolean") return String(value);
  if (value === undefined || value === null) return String(value);
  if (typeof value === "function") return "a function";
  try {
    const json = JSON.stringify(value);
    if (json === undefined) return String(value);
    // Long arrays/objects would drown the message; the start is enough to recognise them.
    return json.length > 80 ? `${json.slice(0, 77)}...` : json;
  } catch {
    return Object.prototype.toString.call(value);
  }
}

const ARTICLE_AN = new Set(["array", "object", "integer", "int", "undefined"]);

/** zod's own issue, said as "must be ..." (used when the schema gives neither a description nor a clause). */
function clauseOf(issue: z.core.$ZodIssue): string {
  if (/^[a-z]/.test(issue.message)) return issue.message;
  switch (issue.code) {
    case "invalid_type": {
      const expected = String(issue.expected);
      return `must be ${ARTICLE_AN.has(expected) ? "an" : "a"} ${expected}`;
    }
    case "invalid_value":
      return `must be ${issue.values.length === 1 ? "" : "one of "}${issue.values.map((v) => describeValue(v)).join(", ")}`;
    case "too_small":
    case "too_big": {
      const op = issue.code === "too_small" ? (issue.inclusive === false ? ">" : ">=") : issue.inclusive === false ? "<" : "<=";
      const bound = String(issue.code === "too_small" ? issue.minimum : issue.maximum);
      const numeric = issue.origin === "number" || issue.origin === "int" || issue.origin === "bigint" || issue.origin === "date";
      return `${numeric ? "must be" : issue.origin === "string" ? "must have length" : "must have size"} ${op} ${bound}`;
    }
    default:
      return `is invalid (${issue.message})`;
  }
}

/**
 * Validates `value` against `schema` and returns the parsed options (defaults filled in);
 * `undefined` and `null` are read as `{}`. The first problem throws `context.error(message,
 * option)` (see the module comment for the messages).
 *
 * @example
 * ```ts
 * const Schema = z.strictObject({ stride: positiveInt().default(1) });
 * parseOptions(Schema, { stride: 2 }, { what: "GPTDataset", error: (m, o) => new DatasetError(m, o) }); // { stride: 2 }
 * parseOptions(Schema, { stride: 0 }, ...);  // throws "`stride` must be a positive integer, received 0" (option "stride")
 * ```
 */
export function parseOptions<S extends z.ZodType>(schema: S, value: unknown, context: ParseOptionsContext): z.output<S> {
  const input = value ?? {};
  const result = schema.safeParse(input, { reportInput: true });
  if (result.success) return result.data;
  const { what, error } = context;
  const issue = result.error.issues[0];
  if (issue === undefined) throw error(`invalid options for ${what}`, undefined);

  if (issue.code === "unrecognized_keys") {
    let at: unknown = schema;
    for (const key of issue.path) at = child(at, key);
    const prefix = issue.path.map(String).join(".");
    const subject = prefix === "" ? what : `\`${prefix}\``;
    const known = knownKeys(at);
    const keys = issue.keys.map((k) => `\`${k}\``).join(", ");
    const first = issue.keys[0];
    throw error(
      `${subject} has no option ${keys}${known === undefined ? "" : known.length === 0 ? " (it takes none)" : ` (known: ${known.join(", ")})`}`,
      first === undefined ? undefined : prefix === "" ? first : `${prefix}.${first}`,
    );
  }

  // The deepest field along the path with a `.describe()` text says what is allowed for all below it.
  let described: { depth: number; text: string } | undefined;
  let at: unknown = schema;
  for (let depth = 1; depth <= issue.path.length && at !== undefined; depth++) {
    at = child(at, issue.path[depth - 1] as PropertyKey);
    const text = descriptionOf(at);
    if (text !== undefined) described = { depth, text };
  }
  const path = described === undefined ? issue.path : issue.path.slice(0, described.depth);
  const clause = described === undefined ? clauseOf(issue) : `must be ${described.text}`;
  if (path.length === 0) {
    const rootClause = issue.code === "invalid_type" && issue.expected === "object" ? "must be an object" : clause;
    throw error(`${what} options ${rootClause}, received ${describeValue(value)}`, undefined);
  }
  const option = path.map(String).join(".");
  throw error(`\`${option}\` ${clause}, received ${describeValue(valueAt(input, path))}`, option);
}
