/** Reading ffmpeg's stderr: the showinfo frame records, and the diagnostic tail turned into a client-safe reason. */
import { MAX_LINE } from './input.js';

/** How many ffmpeg diagnostic lines are kept for error messages. */
const TAIL_LINES = 20;
/** `argin` records kept for matching; the `argout` line of a frame follows its `argin` line closely. */
const MAX_PENDING_INPUT_FRAMES = 4096;

/** One frame announced by `showinfo@argout`, waiting for its bytes on stdout. */
export interface PendingFrame {
  readonly index: number;
  readonly timestamp: number;
  readonly width: number;
  readonly height: number;
}

const SHOWINFO_LINE = /^\[showinfo@arg(in|out) @ [0-9a-fx]+\] (?:\[[a-z]+\] )?(.*)$/;
const FRAME_INFO = /^n:\s*\d+\s+pts:\s*(\S+)\s+pts_time:(\S+)\s.*?\bs:(\d+)x(\d+)\b/;
const CONFIG_INFO = /^config in time_base: (\d+)\/(\d+)/;

/** Parses ffmpeg's stderr: frame records from the two showinfo filters, and the diagnostic tail. */
export class StderrParser {
  /** Frames ready to be read from stdout, in output order. */
  readonly frames: PendingFrame[] = [];
  readonly diagnostics: Diagnostics;
  private rest = '';
  private decoded = 0;
  private lastIndex = -1;
  /** Recent `argin` frames not yet matched to an `argout` line (or skipped by select). */
  private inputs: { pts: string; index: number }[] = [];
  private tbNum = 0;
  private tbDen = 0;

  /** `indirection`: a demuxer ffmpeg reaches the file through (the pre-started one's concat), see Diagnostics. */
  constructor(names: readonly string[], indirection?: string) {
    this.diagnostics = new Diagnostics(names, indirection);
  }

  push(text: string): void {
    const lines = (this.rest + text).split(/\r?\n|\r/);
    this.rest = (lines.pop() ?? '').slice(-MAX_LINE);
    for (const line of lines) this.line(line);
  }

  end(): void {
    if (this.rest) this.line(this.rest);
    this.rest = '';
  }

  private line(line: string): void {
    const m = SHOWINFO_LINE.exec(line);
    if (!m) {
      this.diagnostics.add(line);
      return;
    }
    const [, which, body = ''] = m;
    const info = FRAME_INFO.exec(body);
    if (!info) {
      const tb = CONFIG_INFO.exec(body);
      if (tb && which === 'out') {
        this.tbNum = Number(tb[1]);
        this.tbDen = Number(tb[2]);
      }
      return;
    }
    const [, pts = 'NOPTS', ptsTime = '', w = '0', h = '0'] = info;
    if (which === 'in') {
      // Our own count rather than showinfo's n, which restarts when ffmpeg rebuilds the graph.
      this.inputs.push({ pts, index: this.decoded++ });
      if (this.inputs.length > MAX_PENDING_INPUT_FRAMES) this.inputs.splice(0, this.inputs.length - MAX_PENDING_INPUT_FRAMES);
      return;
    }
    const at = this.inputs.findIndex((f) => f.pts === pts);
    let index: number;
    if (at >= 0) {
      index = (this.inputs[at] as { index: number }).index;
      this.inputs.splice(0, at + 1);
    } else {
      // Not expected: fall back to the latest decoded frame, never going backwards.
      index = Math.max(this.decoded - 1, this.lastIndex + 1);
    }
    this.lastIndex = index;
    this.frames.push({ index, timestamp: this.seconds(pts, ptsTime), width: Number(w), height: Number(h) });
  }

  private seconds(pts: string, ptsTime: string): number {
    if (/^-?\d+$/.test(pts) && this.tbDen > 0) return (Number(pts) * this.tbNum) / this.tbDen;
    const t = Number(ptsTime);
    return ptsTime !== '' && Number.isFinite(t) ? t : Number.NaN;
  }
}

/** The last diagnostic lines of ffmpeg/ffprobe, turned into a short reason safe to show to a client. */
export class Diagnostics {
  private readonly lines: { level: string; text: string }[] = [];

  /**
   * `indirection`: the component name of a demuxer between ffmpeg and the file (the concat list of a pre-started ffmpeg,
   * see warm.ts). Its lines repeat the file's own ("Impossible to open", a packet warning) and are dropped, except a
   * refused format, which a file of that very format (read through it) is refused with.
   */
  constructor(
    private readonly names: readonly string[],
    private readonly indirection?: string,
  ) {}

  add(raw: string): void {
    // "[avi @ 0x55d0...] [warning] Packet corrupt" / "[fatal] file:x.avi: corrupt input packet" / "plain text".
    const m = /^(?:\[([^\]]+?) @ 0x[0-9a-f]+\] )?(?:\[(trace|debug|verbose|info|warning|error|fatal|panic)\] )?(.*)$/.exec(raw);
    const text = (m?.[3] ?? raw).trim();
    if (!text) return;
    const level = m?.[2] ?? 'error';
    if (level === 'info' || level === 'verbose' || level === 'debug' || level === 'trace') return;
    if (this.indirection && m?.[1] === this.indirection && !/not on whitelist/.test(text)) return;
    let clean = text;
    for (const name of this.names) if (name) clean = clean.split(name).join('input');
    const component = m?.[1];
    this.lines.push({ level, text: component ? `${component}: ${clean}` : clean });
    if (this.lines.length > TAIL_LINES) this.lines.shift();
  }

  /** Up to three distinct error lines (else warnings), newest last; null when ffmpeg said nothing. */
  reason(): string | null {
    if (this.lines.some((l) => /not on whitelist/.test(l.text))) return 'unsupported container format (not a video file Argus accepts)';
    if (this.lines.some((l) => /matches no streams/.test(l.text))) return 'the file has no video stream';
    const noise = /^(Conversion failed!|Error marking filters as finished|Error while filtering: .*|Exiting normally.*|Consider increasing the value for the 'analyzeduration'.*)$/;
    const pick = (levels: string[]) => [...new Set(this.lines.filter((l) => levels.includes(l.level) && !noise.test(l.text)).map((l) => l.text))];
    let texts = pick(['error', 'fatal', 'panic']);
    if (texts.length === 0) texts = pick(['warning']);
    if (texts.length === 0) texts = [...new Set(this.lines.map((l) => l.text))];
    if (texts.length === 0) return null;
    return texts.slice(-3).join('; ').slice(0, 500);
  }
}
