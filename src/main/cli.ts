/** Startup file of the `argus` command. */
import { buildProgram } from '../cli/program.js';
import { requireDataDir } from '../cli/data-dir.js';
import { ConfigError, loadConfig, loadEnv } from './config.js';
import { DataDirLockedError } from './data-dir-lock.js';

// `argus keys list | head`: a reader that stops early is not an error; stop quietly as other command-line tools do.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

const program = buildProgram({
  loadConfig: (overrides) => {
    const env = { ...loadEnv(), ...overrides };
    requireDataDir(env, process.cwd());
    return loadConfig(env);
  },
  // The server and worker (fastify, onnxruntime, sharp, the database) load only for the commands that start them:
  // `argus --version`, `whoami` or `keys` through the API stay quick.
  startApi: async (config) => (await import('./start-api.js')).startApi(config),
  startWorker: async (config) => (await import('./start-worker.js')).startWorker(config),
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
