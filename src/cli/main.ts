#!/usr/bin/env node
// backprop: the service's command-line client. Results go to stdout, progress and errors to stderr.
import { parseArgs } from 'node:util';
import { loadCliEnv } from '../config/cli.js';
import { ConfigError } from '../config/index.js';
import { columnTypeSchema } from '../contracts/datasets.js';
import { ApiClient } from './api-client.js';
import { moveAlias } from './commands/alias.js';
import { evaluate } from './commands/evaluate.js';
import type { Output } from './commands/output.js';
import { predict } from './commands/predict.js';
import { sweep } from './commands/sweep.js';
import { train } from './commands/train.js';
import { watch } from './commands/watch.js';
import { CliError, UsageError } from './errors.js';
import { DEFAULT_URL, resolveSettings } from './settings.js';

const USAGE = `Usage:
  backprop train <spec.json> <data.csv> --target <column>[,<column>...] [--name <dataset name>]
                 [--ignore <column>[,<column>...]] [--column-types <column>:<type>[,...]]
                 [--sequence <id column> [--per-step-targets]]
      Upload the CSV, train the model the spec describes ({ model, training?, preprocessing? }),
      show progress on stderr and print the model id on stdout. Column types (numeric, categorical,
      boolean) are inferred; --column-types overrides them and --ignore leaves columns (ids, names,
      dates) out. The dataset's skipped rows and column warnings, then the model's evaluation on its
      validation rows, go to stderr. With --sequence, each row is one step and consecutive rows with
      the same id form one sequence.
  backprop predict <modelId> <inputs.json|inputs.csv>
      Print the model's outputs (and labels for classifiers) as JSON. A CSV needs a header row;
      columns the model does not use (the target, say) are ignored, empty or NA cells are missing.
      Values the model never saw in training are listed on stderr.
  backprop evaluate <modelId> --dataset <datasetId> [--json]
      Judge the model on another uploaded dataset: accuracy, F1 and the confusion matrix, or MAE,
      RMSE and R² per target.
  backprop sweep <sweep.json> --dataset <datasetId>
      Start a hyperparameter sweep ({ base, space, strategy, trials?, parallelism?, objective?,
      halving? }: POST /v1/sweeps without its dataset), show its progress on stderr, then its trials
      sorted by the objective, and print the best trial's model id on stdout.
  backprop watch <jobId>
      Follow a job already submitted; print its model id on stdout.
  backprop alias <name> <alias> <version>
      Point an alias of a registered model name (production, staging, ...) at one of its versions;
      predictions by name (POST /v1/registry/<name>/predict) follow it from the next request on.

Options:
  --url <url>   API base URL (env BACKPROP_URL, default ${DEFAULT_URL})
  --key <key>   API key (env BACKPROP_API_KEY)
  -h, --help    Show this help
`;

const COMMANDS: Record<string, { positionals: string[] }> = {
  train: { positionals: ['spec.json', 'data.csv'] },
  predict: { positionals: ['modelId', 'inputs'] },
  evaluate: { positionals: ['modelId'] },
  watch: { positionals: ['jobId'] },
  alias: { positionals: ['name', 'alias', 'version'] },
  sweep: { positionals: ['sweep.json'] },
};
const COMMAND_NAMES = 'train, predict, evaluate, sweep, watch or alias';

async function run(argv: string[], out: Output): Promise<void> {
  const { values, positionals } = parseCommandLine(argv);
  if (values.help) {
    out.stdout.write(USAGE);
    return;
  }
  if (positionals.length === 0) {
    out.stderr.write(USAGE);
    throw new UsageError(`expected a command: ${COMMAND_NAMES}`);
  }
  const [command, ...rest] = positionals;
  const expected = COMMANDS[command]?.positionals;
  if (!expected) throw new UsageError(`unknown command "${command}"; expected ${COMMAND_NAMES}`);
  if (rest.length !== expected.length) {
    throw new UsageError(`${command} expects ${expected.map((p) => `<${p}>`).join(' ')}, got ${rest.length} argument(s)`);
  }
  if (command === 'train') checkTrainFlags(values);
  if (command === 'evaluate' && !values.dataset) throw new UsageError('evaluate needs --dataset <datasetId>');
  if (command === 'sweep' && !values.dataset) throw new UsageError('sweep needs --dataset <datasetId>');
  const client = new ApiClient(resolveSettings(values, loadCliEnv()));
  if (command === 'train') {
    const { target, name, sequence, ignore } = values;
    const options = { name, sequence, perStepTargets: values['per-step-targets'], ignore, columnTypes: values['column-types'] };
    await train(client, { specPath: rest[0], csvPath: rest[1], target: target!, ...options }, out);
  } else if (command === 'predict') {
    await predict(client, { modelId: rest[0], inputsPath: rest[1] }, out);
  } else if (command === 'evaluate') {
    await evaluate(client, { modelId: rest[0], datasetId: values.dataset!, json: values.json }, out);
  } else if (command === 'sweep') {
    await sweep(client, { sweepPath: rest[0], datasetId: values.dataset! }, out);
  } else if (command === 'alias') {
    await moveAlias(client, { name: rest[0], alias: rest[1], version: rest[2] }, out);
  } else {
    out.stdout.write(`${await watch(client, rest[0], out)}\n`);
  }
}

type Flags = ReturnType<typeof parseCommandLine>['values'];

/** What the API would refuse anyway, refused before the CSV is read and uploaded. */
function checkTrainFlags(values: Flags): void {
  if (!values.target) throw new UsageError('train needs --target <column>[,<column>...]');
  if (values.sequence !== undefined && (values.ignore !== undefined || values['column-types'] !== undefined)) {
    throw new UsageError('--ignore and --column-types are for tables, not with --sequence');
  }
  for (const pair of (values['column-types'] ?? '').split(',').filter((p) => p.trim() !== '')) {
    // The last colon, as the API reads it: a column name may hold one.
    const type = pair.slice(pair.lastIndexOf(':') + 1).trim();
    if (pair.lastIndexOf(':') <= 0 || !columnTypeSchema.safeParse(type).success) {
      throw new UsageError(`--column-types: expected <column>:<type> pairs with a type of ${columnTypeSchema.options.join(', ')}, got "${pair}"`);
    }
  }
}

function parseCommandLine(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        url: { type: 'string' },
        key: { type: 'string' },
        target: { type: 'string' },
        name: { type: 'string' },
        sequence: { type: 'string' },
        'per-step-targets': { type: 'boolean' },
        ignore: { type: 'string' },
        'column-types': { type: 'string' },
        dataset: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

const out: Output = { stdout: process.stdout, stderr: process.stderr };
// Ctrl-C while following: end the progress line; the job itself keeps training (`backprop watch <jobId>`).
process.once('SIGINT', () => {
  out.stderr.write('\n');
  process.exit(130);
});
run(process.argv.slice(2), out).catch((err: unknown) => {
  const known = err instanceof CliError || err instanceof ConfigError;
  out.stderr.write(`backprop: ${known ? (err as Error).message : (err as Error)?.stack ?? String(err)}\n`);
  if (err instanceof UsageError) out.stderr.write('Run backprop --help for usage.\n');
  process.exitCode = err instanceof CliError ? err.exitCode : 1;
});
