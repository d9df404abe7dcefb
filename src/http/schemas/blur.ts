/** Schemas of blur detection. */
import Type from 'typebox';
import { named } from './common.js';

/** What `/blur/detect` answers, and a job's blur task per image. */
export const BlurResult = named(
  'BlurResult',
  Type.Object({
    is_blurry: Type.Boolean(),
    confidence: Type.Number({ minimum: 0, maximum: 1 }),
    laplacian_variance: Type.Number(),
    hf_ratio: Type.Number({ minimum: 0, maximum: 1, description: 'Share of spectral energy above 1/8 of the sampling frequency' }),
    threshold: Type.Number(),
    width: Type.Integer(),
    height: Type.Integer(),
  }),
);
