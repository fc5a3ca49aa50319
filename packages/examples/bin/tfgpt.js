#!/usr/bin/env node
// The `tfgpt` bin. A committed launcher rather than `dist/cli.js` itself: npm links a
// workspace's bin at install time only when its target exists, and `dist/` is built after.
import { runCli } from "../dist/cli.js";

await runCli();
