import type { Command } from 'commander';
import { printableConfig } from '../core/config.js';
import { type CommandContext, type CommonOptions, withCommonOptions } from './common.js';
import { writeJson, writeLine } from './output.js';

export function registerConfigCommand(program: Command, context: CommandContext): void {
  const config = program.command('config').description('check and print the effective configuration');
  withCommonOptions(
    config
      .command('check')
      .description('validate the config file and environment; print the result with secrets redacted'),
    [
      'SANDBOX_SHOPIFY_TOKEN=shpat_fake tradectl config check --config config/sandbox.yaml',
      'TRADECTL_MYSQL_URL=mysql://u:p@db:3306 tradectl config check --json',
    ],
  ).action(async (options: CommonOptions) => {
    const loaded = await context.loadConfig(options);
    const printable = printableConfig(loaded);
    if (options.json) writeJson(context.io, printable);
    else {
      writeLine(context.io.stderr, `config ok: ${loaded.accounts.length} account(s)`);
      writeLine(context.io.stdout, JSON.stringify(printable, null, 2));
    }
  });
}
