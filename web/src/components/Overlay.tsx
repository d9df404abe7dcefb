/**
 * Boxes drawn over a photo or a video frame. An SVG laid exactly over the media element with a viewBox in the
 * media's own pixels, so the API's box coordinates are drawn as they are, whatever size the element is shown at.
 */

/** One box to draw. */
export interface OverlayBox {
  readonly key: string;
  readonly x1: number;
  readonly y1: number;
  readonly x2: number;
  readonly y2: number;
  readonly label: string;
  readonly colour: string;
  /** Which layer it belongs to (data attribute for tests and styling). */
  readonly layer: string;
  /** A closed polygon (text lines) drawn instead of the rectangle. */
  readonly polygon?: readonly (readonly [number, number])[];
  /** Clicking it (choosing a face). */
  readonly onSelect?: () => void;
}

/** The SVG overlay for media of `width` × `height` pixels. */
export function Overlay({ width, height, boxes }: { width: number; height: number; boxes: readonly OverlayBox[] }) {
  if (!width || !height) return null;
  const font = Math.max(11, Math.round(Math.max(width, height) / 55));
  const stroke = Math.max(2, Math.round(Math.max(width, height) / 400));
  return (
    <svg class="overlay" viewBox={`0 0 ${width} ${height}`} preserveAspectRatio="none" aria-hidden="true">
      {boxes.map((b) => {
        const w = Math.max(1, b.x2 - b.x1);
        const h = Math.max(1, b.y2 - b.y1);
        const labelY = b.y1 > font + 4 ? b.y1 - font * 0.3 : b.y1 + font;
        return (
          <g key={b.key} class={`box layer-${b.layer}${b.onSelect ? ' selectable' : ''}`} data-layer={b.layer} data-label={b.label} onClick={b.onSelect}>
            {b.polygon ? (
              <polygon points={b.polygon.map((p) => p.join(',')).join(' ')} fill="none" stroke={b.colour} stroke-width={stroke} />
            ) : (
              <rect class="box-rect" x={b.x1} y={b.y1} width={w} height={h} fill={b.onSelect ? 'rgba(255,255,255,0.01)' : 'none'} stroke={b.colour} stroke-width={stroke} />
            )}
            {b.label && (
              <>
                <rect x={b.x1} y={labelY - font} width={Math.min(width - b.x1, b.label.length * font * 0.62 + 6)} height={font * 1.25} fill={b.colour} />
                <text x={b.x1 + 3} y={labelY} font-size={font} fill="#fff">
                  {b.label}
                </text>
              </>
            )}
          </g>
        );
      })}
    </svg>
  );
}
