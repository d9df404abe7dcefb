/** Startup file of the API process (`npm start`): reads the configuration once and starts the server. */
import { ConfigError, loadConfig } from './config.js';
import { DataDirLockedError } from './data-dir-lock.js';
import { startApi } from './start-api.js';

try {
  await startApi(loadConfig());
} catch (err) {
  if (err instanceof ConfigError || err instanceof DataDirLockedError) {
    process.stderr.write(`argus: ${err.message}\n`);
    process.exit(1);
  }
  throw err;
}
