#!/usr/bin/env node
import { runCli } from '../src/cli/main.js';
import { processIo } from '../src/cli/output.js';

// The only place that exits the process: every command returns its exit code to here.
const code = await runCli(process.argv.slice(2), processIo());
process.exit(code);
