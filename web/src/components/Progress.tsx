/** A labelled progress bar (a native <progress>, so assistive technology reads it). */
export function Progress({ done, total: known, label }: { done: number; total: number | null; label: string }) {
  // A video's total is unknown until its length is.
  const total = known ?? 0;
  const pct = total > 0 ? Math.round((done / total) * 100) : 0;
  return (
    <div class="progress">
      <progress max={100} value={pct} aria-label={label} data-percent={pct} />
      <span class="progress-text">
        {total > 0 ? `${done}/${total} (${pct}%)` : '…'}
      </span>
    </div>
  );
}
