/** `npm run bench -- <name> [args]`: the project's benchmarks. Each prints its figures against a baseline. */
import { benchUpload } from './upload.js';

const [name, ...args] = process.argv.slice(2);
switch (name) {
  case 'upload':
    await benchUpload(Number(args[0] ?? 1));
    break;
  default:
    console.error('usage: npm run bench -- upload [GiB]');
    process.exitCode = 2;
}
