/**
 * How usable a detected face is for recognition: its size, sharpness and head pose (from the 5 landmarks alone), an
 * overall 0..1 score for picking the best view of a face, and the enrolment gate. Pure and synchronous.
 */
import { clipBox, type Box } from '../geometry.js';
import { laplacianVariance, rgbToGrey } from '../blur.js';
import type { RgbImage } from '../image-tensor.js';

/** The measurements behind a face's quality. */
export interface FaceQuality {
  /** The shorter side of the face box (clipped to the image), in image pixels. */
  readonly size: number;
  /** Laplacian variance of the aligned crop's inner face region (see {@link faceSharpness}); low = blurry. */
  readonly sharpness: number;
  /** Left-right turn in degrees; positive when the nose points to the image's right. Rough, see {@link estimatePose}. */
  readonly yaw: number;
  /** Up-down tilt in degrees; positive when the face looks up. Rough, see {@link estimatePose}. */
  readonly pitch: number;
  /** In-plane tilt of the eye line in degrees; positive when the image-right eye is lower (clockwise on screen). */
  readonly roll: number;
  /** Overall usability 0..1: the product of the detector's score and the size, sharpness and pose factors. */
  readonly score: number;
}

/** Limits below which {@link judgeEnrollment} refuses a face. */
export interface EnrollmentLimits {
  /** Shortest box side in pixels. */
  readonly minSize: number;
  /** Laplacian variance of the aligned 112 px crop's inner face region ({@link faceSharpness}). */
  readonly minSharpness: number;
  /** Largest |yaw| in degrees. */
  readonly maxYaw: number;
  /** Largest |pitch| in degrees. */
  readonly maxPitch: number;
}

/**
 * Default enrolment limits. minSharpness 40 (Laplacian variance of the aligned crop's inner face region, see
 * {@link faceSharpness}), calibrated on the 60 test faces (/work/shared/testdata/faces): as photographed they measure
 * 287..4400 (median 1360), and still 51 or more when the photo is shrunk so the face is only 40 px (upsampled into
 * the crop); blurred with a Gaussian of sigma 3 px at the crop's scale (MobileFaceNet's cosine to the sharp face drops
 * to ~0.35, useless) all 60 fall below 36; at sigma 2 px (cosine ~0.7, degraded) two thirds fall below 40.
 * maxYaw 45 and maxPitch 40: beyond them the far eye and mouth corner are guesses and embeddings drift (the one test
 * photo past 45°, estimated 48°, has cosines of only 0.16 and 0.35 to the same person's other two photos).
 */
export const DEFAULT_ENROLLMENT_LIMITS: EnrollmentLimits = { minSize: 40, minSharpness: 40, maxYaw: 45, maxPitch: 40 };

/**
 * Pose model constants, in units of the distance between the eyes (iod). YuNet's landmarks of a frontal face put the
 * mouth-corner line 1.0 iod below the eye line and the nose tip at 0.58 of the way down to it (medians over the 68
 * mostly frontal faces of the test photos; the ArcFace template's own 1.155 and 0.495 come from another annotator and
 * do not fit YuNet). Nose depths: under weak perspective a turn by θ shrinks the seen eye distance by cos θ while the
 * eye-to-mouth height stays, which gives θ on strongly turned faces independently of the nose; fitting the nose
 * offset to it there gives 0.45 iod of nose depth in front of the eyes and mouth (a generic 3D head says 0.35-0.4).
 * The pitch depth (nose tip in front of the eyes) is that generic figure scaled alike, 0.4: not measured.
 */
const NOSE_DEPTH_YAW = 0.45;
const NOSE_DEPTH_PITCH = 0.4;
const EYE_TO_MOUTH = 1.0;
const FRONTAL_NOSE_T = 0.58;

/** Head pose in degrees, see {@link FaceQuality}. */
export interface Pose {
  readonly yaw: number;
  readonly pitch: number;
  readonly roll: number;
}

const DEG = 180 / Math.PI;

/**
 * Rough head pose from 5 landmarks (right eye, left eye, nose tip, right mouth corner, left mouth corner; YuNet's
 * order). With weak perspective and a generic face:
 * - roll = the angle of the line from the first to the second eye;
 * - the points are then rotated by -roll, so u runs along the eye line and v across it;
 * - yaw: turning by θ moves the nose tip sideways by (its depth) sin θ while the eyes close up by cos θ, so with
 *   r = (nose.u − midline.u) / iod (midline = halfway between the eye and mouth midpoints, iod = eye distance as seen),
 *   yaw = atan(r / 0.45);
 * - pitch: tilting by φ moves the nose tip up or down against the eye-to-mouth span, so with t = the nose's position
 *   from the eye line (0) to the mouth line (1), pitch = atan((0.58 − t) · 1.0 / 0.4).
 * Not calibrated on a labelled pose set (see the constants): faces differ by about ±0.05 in t and r from anatomy
 * alone, so expect errors of ±10° (pitch is the weaker of the two), and landmarks beyond ~60° of yaw are themselves
 * guesses. Good enough to refuse a face that is clearly turned away, not to report an angle.
 */
export function estimatePose(landmarks: readonly (readonly [number, number])[]): Pose {
  if (landmarks.length !== 5) throw new RangeError(`estimatePose: expected 5 landmarks, got ${landmarks.length}`);
  const re = landmarks[0]!;
  const le = landmarks[1]!;
  const nose = landmarks[2]!;
  const rm = landmarks[3]!;
  const lm = landmarks[4]!;
  const ex = le[0] - re[0];
  const ey = le[1] - re[1];
  const iod = Math.hypot(ex, ey);
  if (!(iod > 0)) return { yaw: Number.NaN, pitch: Number.NaN, roll: Number.NaN };
  const roll = Math.atan2(ey, ex);
  const cu = ex / iod;
  const su = ey / iod;
  // u along the eye line, v perpendicular to it (pointing down the face), in iod units from the right eye.
  const u = (p: readonly [number, number]): number => ((p[0] - re[0]) * cu + (p[1] - re[1]) * su) / iod;
  const v = (p: readonly [number, number]): number => (-(p[0] - re[0]) * su + (p[1] - re[1]) * cu) / iod;
  const eyeU = 0.5;
  const mouthU = (u(rm) + u(lm)) / 2;
  const mouthV = (v(rm) + v(lm)) / 2;
  const yaw = Math.atan((u(nose) - (eyeU + mouthU) / 2) / NOSE_DEPTH_YAW);
  // Eyes are at v = 0; a mouth at or above the eyes (a broken detection) gives t = NaN or nonsense, hence the guard.
  const t = mouthV > 0 ? v(nose) / mouthV : Number.NaN;
  const pitch = Math.atan(((FRONTAL_NOSE_T - t) * EYE_TO_MOUTH) / NOSE_DEPTH_PITCH);
  return { yaw: yaw * DEG, pitch: pitch * DEG, roll: roll * DEG };
}

/**
 * The inner face region of an aligned crop, as fractions of its side: x 24..88, y 32..104 of 112 px, from the brows
 * to below the mouth and between the cheeks. Hair, background and the black fill where the crop runs past the image
 * edge lie outside it; measured over the whole crop their hard edges kept one test face at a Laplacian variance of
 * 480 under a blur that made its embedding useless.
 */
const INNER = { x1: 24 / 112, y1: 32 / 112, x2: 88 / 112, y2: 104 / 112 } as const;

/**
 * Sharpness of an aligned face crop: the Laplacian variance (OpenCV's figure, see blur.ts) of the grey of its inner
 * face region {@link INNER}. The figures in {@link DEFAULT_ENROLLMENT_LIMITS} are for 112 px crops.
 */
export function faceSharpness(aligned: RgbImage): number {
  const { width: w, height: h } = aligned;
  const x1 = Math.round(INNER.x1 * w);
  const y1 = Math.round(INNER.y1 * h);
  const rw = Math.max(2, Math.round(INNER.x2 * w) - x1);
  const rh = Math.max(2, Math.round(INNER.y2 * h) - y1);
  if (w < x1 + rw || h < y1 + rh) throw new RangeError(`faceSharpness: crop ${w}x${h} is too small`);
  const region = new Uint8Array(rw * rh * 3);
  for (let y = 0; y < rh; y++) {
    const from = ((y1 + y) * w + x1) * 3;
    region.set(aligned.data.subarray(from, from + rw * 3), y * rw * 3);
  }
  return laplacianVariance(rgbToGrey(region, 3, rw, rh));
}

/** 0..1, rising linearly from 0 at `lo` to 1 at `hi`. */
function ramp(v: number, lo: number, hi: number): number {
  return v <= lo ? 0 : v >= hi ? 1 : (v - lo) / (hi - lo);
}

/**
 * Measures a detected face. `img` is the whole image (the box is clipped to it), `face` the detection in its pixels,
 * `aligned` the face's aligned crop (see alignFace). The overall score multiplies the detector's score with
 * - size: 0 at 20 px, 1 from 112 px (the aligned crop's own size: larger adds no detail to the embedding);
 * - sharpness: on a log scale, 0 at 20 and 1 from 300 (blur that ruins the embedding ends below 40; every sharp
 *   test face measured at least 287);
 * - pose: cos(yaw)·cos(pitch), the share of the frontal face that faces the camera (0 beyond 90°).
 * so it ranks views of the same face (the best frame of a track) rather than being a probability.
 */
export function faceQuality(
  img: RgbImage,
  face: { readonly box: Box; readonly landmarks: readonly (readonly [number, number])[]; readonly score: number },
  aligned: RgbImage,
): FaceQuality {
  const b = clipBox(face.box, img.width, img.height);
  const size = Math.max(0, Math.min(b.x2 - b.x1, b.y2 - b.y1));
  const sharpness = faceSharpness(aligned);
  const pose = estimatePose(face.landmarks);
  const sizeF = ramp(size, 20, 112);
  const sharpF = ramp(Math.log(Math.max(sharpness, 1e-9)), Math.log(20), Math.log(300));
  const cosOr0 = (deg: number): number => (Number.isFinite(deg) ? Math.max(0, Math.cos(deg / DEG)) : 0);
  const poseF = cosOr0(pose.yaw) * cosOr0(pose.pitch);
  const det = Number.isFinite(face.score) ? Math.min(1, Math.max(0, face.score)) : 0;
  return { size, sharpness, ...pose, score: det * sizeF * sharpF * poseF };
}

/**
 * Why a face is too poor to enrol as someone's reference (a human-readable reason), or null when it will do. Checks,
 * in order, size, sharpness, yaw and pitch; a measurement that is NaN (landmarks that make no face) fails its check.
 */
export function judgeEnrollment(q: FaceQuality, limits: EnrollmentLimits = DEFAULT_ENROLLMENT_LIMITS): string | null {
  // Written as !(ok) so NaN fails.
  if (!(q.size >= limits.minSize)) return `face too small: ${Math.round(q.size)} px across, at least ${limits.minSize} px needed`;
  if (!(q.sharpness >= limits.minSharpness)) {
    return `face too blurry: sharpness ${q.sharpness.toFixed(1)}, at least ${limits.minSharpness} needed`;
  }
  if (!(Math.abs(q.yaw) <= limits.maxYaw)) {
    return `face turned away: about ${Math.round(Math.abs(q.yaw))}° to the side, at most ${limits.maxYaw}° allowed`;
  }
  if (!(Math.abs(q.pitch) <= limits.maxPitch)) {
    return `face tilted ${q.pitch > 0 ? 'up' : 'down'}: about ${Math.round(Math.abs(q.pitch))}°, at most ${limits.maxPitch}° allowed`;
  }
  return null;
}
