import { describe, expect, it } from 'vitest';
import { DECODERS, decoderFor, isDecoderName } from './decoders.js';
import { decodeNanodet } from './nanodet.js';
import { decodePicodet } from './picodet.js';
import { decodeYolov5 } from './yolov5.js';
import { decodeYolov8 } from './yolov8.js';
import { decodeYolox } from './yolox.js';

describe('decoder registry', () => {
  it('knows the five formats by name', () => {
    expect(Object.keys(DECODERS).sort()).toEqual(['nanodet', 'picodet', 'yolov5', 'yolov8', 'yolox']);
    expect(decoderFor('yolox')).toBe(decodeYolox);
    expect(decoderFor('yolov5')).toBe(decodeYolov5);
    expect(decoderFor('yolov8')).toBe(decodeYolov8);
    expect(decoderFor('nanodet')).toBe(decodeNanodet);
    expect(decoderFor('picodet')).toBe(decodePicodet);
  });

  it('accepts only exact own names', () => {
    expect(isDecoderName('yolov8')).toBe(true);
    expect(isDecoderName('YOLOv8')).toBe(false);
    expect(isDecoderName('toString')).toBe(false);
    expect(isDecoderName('')).toBe(false);
  });
});
