/** Startup file of the `argus` command. */
import { buildProgram } from '../cli/program.js';
import { requireDataDir } from '../cli/data-dir.js';
import { ConfigError, loadConfig, loadEnv } from './config.js';
import { DataDirLockedError } from './data-dir-lock.js';
import { startApi } from './start-api.js';
import { startWorker } from './start-worker.js';

const program = buildProgram({
  loadConfig: (overrides) => {
    const env = { ...loadEnv(), ...overrides };
    requireDataDir(env, process.cwd());
    return loadConfig(env);
  },
  startApi,
  startWorker,
  print: (line) => process.stdout.write(`${line}\n`),
});
try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof ConfigError || err instanceof DataDirLockedError) {
    process.stderr.write(`argus: ${err.message}\n`);
    process.exit(1);
  }
  process.stderr.write(`argus: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
