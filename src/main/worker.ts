/** Startup file of a worker process (`argus worker`, scale-out mode): reads the configuration once and starts it. */
import { ConfigError, loadConfig } from './config.js';
import { startWorker } from './start-worker.js';

try {
  await startWorker(loadConfig());
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`argus: ${err.message}\n`);
    process.exit(1);
  }
  throw err;
}
