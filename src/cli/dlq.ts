import { type Command, InvalidArgumentError, Option } from 'commander';
import { isPlatform, PLATFORMS } from '../core/platforms.js';
import { runDlqReplay, withDeadLetterStore } from '../workers/dlq-replay-run.js';
import { type CommandContext, parseIntegerOption, withCommonOptions } from './common.js';
import {
  type DlqCliDeps,
  type DlqListOptions,
  type DlqReplayOptions,
  runDlqList,
  runDlqReplayCommand,
  runDlqShow,
} from './dlq-run.js';

/**
 * `tradectl dlq list|show|replay`: flags parsed and checked here (a bad one is a usage error,
 * exit 2, naming it); the work is in dlq-run.ts and src/workers/dlq-replay*.ts.
 * Operator guide: docs/operations-status.md.
 */
export function registerDlqCommand(
  program: Command,
  context: CommandContext,
  overrides: Partial<DlqCliDeps> = {},
) {
  const deps: DlqCliDeps = {
    io: context.io,
    loadConfig: context.loadConfig,
    withStore: withDeadLetterStore,
    replay: runDlqReplay,
    setExitCode: context.setExitCode,
    ...overrides,
  };
  const dlq = program
    .command('dlq')
    .description(
      'the dead letter queue: messages that could not be stored, with the reason; replay them after a fix',
    );
  const identity = (command: Command) =>
    command
      .addOption(new Option('--platform <platform>', 'only entries of this platform').argParser(platform))
      .option('--account <id>', 'only entries of this account');

  withCommonOptions(
    identity(
      dlq
        .command('list')
        .description('list entries by id (oldest first), without their bytes; --after continues a listing')
        .addOption(
          new Option('--state <state>', 'open (not replayed), replayed, or all')
            .choices(['open', 'replayed', 'all'])
            .default('open'),
        )
        .option('--limit <n>', 'entries per page, 1-1000', parseIntegerOption('--limit', 1, 1000), 50)
        .option(
          '--after <id>',
          'entries with an id greater than this (the last id of the previous page)',
          entryId('--after'),
        ),
    ),
    [
      'tradectl dlq list',
      'tradectl dlq list --state all --platform shopify --account us-store --limit 100',
      'tradectl dlq list --after 1200 --json',
    ],
  ).action(async (options: DlqListOptions) => runDlqList(options, deps));

  withCommonOptions(
    dlq
      .command('show')
      .description(
        'one entry: reason, source topic/partition/offset, seen count, the original bytes (JSON pretty-printed, else base64 and hex)',
      )
      .argument('<id>', 'entry id', entryId('<id>')),
    ['tradectl dlq show 1234', 'tradectl dlq show 1234 --json'],
  ).action(async (id: string, options) => runDlqShow(id, options, deps));

  withCommonOptions(
    identity(
      dlq
        .command('replay')
        .description(
          'publish the original bytes of entries again (Kafka: to the orders topic; inline: through the sink ' +
            'in this process) and mark them replayed; one that is still invalid goes back to its entry ' +
            '(seen count + 1). Already replayed entries are skipped. Exit 3 when some failed again',
        )
        .argument('[id...]', 'entry ids', (value: string, previous: string[] = []) => [
          ...previous,
          entryId('<id>')(value),
        ])
        .option('--all', 'every open entry (with --platform/--account: of that account); needs --yes')
        .option('--dry-run', 'show what would be replayed; publish nothing')
        .option('--yes', 'confirm --all')
        .addOption(
          new Option(
            '--via <bus>',
            'order bus: kafka, or inline (sink in this process); default kafka when kafka.brokers is set',
          ).choices(['kafka', 'inline']),
        )
        .option(
          '--wait',
          'kafka: wait until the sink group stored the replays, so those failing again show here',
        ),
    ),
    [
      'tradectl dlq replay 1234 1235',
      'tradectl dlq replay --all --platform shopify --dry-run',
      'tradectl dlq replay --all --yes --wait --json',
    ],
  ).action(async (ids: string[], options: DlqReplayOptions) => runDlqReplayCommand(ids, options, deps));
}

function platform(value: string): string {
  if (!isPlatform(value)) {
    throw new InvalidArgumentError(`--platform must be one of ${PLATFORMS.join(', ')}, got "${value}"`);
  }
  return value;
}

function entryId(name: string) {
  return (value: string): string => {
    if (!/^\d{1,20}$/.test(value))
      throw new InvalidArgumentError(`${name} must be an entry id (digits), got "${value}"`);
    return value;
  };
}
