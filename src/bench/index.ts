/** `npm run bench -- <name> [args]`: the project's benchmarks. Each prints its figures against a baseline. */
import { benchAccuracy } from './accuracy.js';
import { benchBlur } from './blur.js';
import { benchDetect } from './detect.js';
import { benchFaces, facesArgs } from './faces.js';
import { benchOcr } from './ocr.js';
import { benchUpload } from './upload.js';
import { benchVideo } from './video.js';
import { benchLoad } from './load.js';
import { benchScale } from './scale.js';
import { benchHeapGrowth } from './heap.js';

// In-process benches measure the pipeline as the API and worker processes run it.
benchHeapGrowth();

const [name, ...args] = process.argv.slice(2);
switch (name) {
  case 'upload':
    await benchUpload(Number(args[0] ?? 1));
    break;
  case 'blur':
    await benchBlur(args[0] ?? new URL('../../../shared/testdata/images/messi5.jpg', import.meta.url).pathname);
    break;
  case 'accuracy':
    await benchAccuracy(args.length ? args : undefined);
    break;
  case 'detect':
    await benchDetect(Number(args[0] ?? 8));
    break;
  case 'faces': {
    await benchFaces(facesArgs(args));
    break;
  }
  case 'ocr':
    await benchOcr(Number(args[0] ?? 5), Number(args[1] ?? 100));
    break;
  case 'video':
    await benchVideo(args[0]);
    break;
  case 'scale':
    await benchScale(Number(args[0] ?? 40), Number(args[1] ?? 3));
    break;
  case 'load':
    if (args[0] === '--soak') await benchLoad(Number(args[1] ?? 30) * 60, Number(args[2] ?? 8), 'soak');
    else await benchLoad(Number(args[0] ?? 120), Number(args[1] ?? 8));
    break;
  default:
    console.error('usage: npm run bench -- upload [GiB] | blur [image] | detect [rounds] | accuracy [models...] | video [file] | load [seconds] [concurrency] | scale [images] [videos] | load --soak [minutes] [concurrency] | faces [sizes...] [--total N] [--no-pipeline] | ocr [rounds] [count]');
    process.exitCode = 2;
}
