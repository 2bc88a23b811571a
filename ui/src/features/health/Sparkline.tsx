import type { HealthPoint } from '../../ipc/types';

export const SPARK_WIDTH = 120;
export const SPARK_HEIGHT = 28;
const PAD = 3;

export interface SparkGeometry {
  /** `points` attribute of the latency polyline ('' when there is no latency to draw). */
  line: string;
  /** Where the down points go. */
  down: { x: number; y: number }[];
}

/**
 * Lay out a target's history in a SPARK_WIDTH × SPARK_HEIGHT box: time from `fromMs` (left) to
 * `toMs` (right), latency from 0 (bottom) to the highest latency seen (top). Down points sit on
 * the bottom edge when they have no latency.
 */
export function sparkGeometry(points: readonly HealthPoint[], fromMs: number, toMs: number): SparkGeometry {
  const span = Math.max(1, toMs - fromMs);
  const timed = points.filter((p): p is HealthPoint & { atMs: number } => typeof p.atMs === 'number');
  const sorted = [...timed].sort((a, b) => a.atMs - b.atMs);
  const maxLatency = Math.max(1, ...sorted.map((p) => p.latencyMs ?? 0));
  const x = (atMs: number) => {
    const clamped = Math.min(toMs, Math.max(fromMs, atMs));
    return PAD + ((clamped - fromMs) / span) * (SPARK_WIDTH - 2 * PAD);
  };
  const y = (latency: number) => SPARK_HEIGHT - PAD - (latency / maxLatency) * (SPARK_HEIGHT - 2 * PAD);
  const round = (n: number) => Math.round(n * 10) / 10;
  const line = sorted
    .filter((p) => typeof p.latencyMs === 'number')
    .map((p) => `${round(x(p.atMs))},${round(y(p.latencyMs ?? 0))}`)
    .join(' ');
  const down = sorted
    .filter((p) => !p.up)
    .map((p) => ({ x: round(x(p.atMs)), y: round(typeof p.latencyMs === 'number' ? y(p.latencyMs) : SPARK_HEIGHT - PAD) }));
  return { line, down };
}

interface SparklineProps {
  name: string;
  points: readonly HealthPoint[];
  fromMs: number;
  toMs: number;
}

/** A target's latency over the last hour, its down checks marked red. Drawn inline; no library. */
export function Sparkline({ name, points, fromMs, toMs }: SparklineProps) {
  const { line, down } = sparkGeometry(points, fromMs, toMs);
  const downCount = down.length;
  return (
    <svg
      role="img"
      aria-label={`Latency and availability of ${name} over the last hour`}
      width={SPARK_WIDTH}
      height={SPARK_HEIGHT}
      viewBox={`0 0 ${SPARK_WIDTH} ${SPARK_HEIGHT}`}
      className="sy-sparkline"
      data-points={points.length}
      data-down={downCount}
    >
      <title>
        {points.length === 0
          ? `No checks of ${name} in the last hour`
          : `${points.length} checks of ${name} in the last hour, ${downCount} down`}
      </title>
      <line
        x1={PAD}
        x2={SPARK_WIDTH - PAD}
        y1={SPARK_HEIGHT - PAD}
        y2={SPARK_HEIGHT - PAD}
        stroke="var(--mantine-color-default-border)"
        strokeWidth={1}
      />
      {line !== '' && (
        <polyline
          points={line}
          fill="none"
          stroke="var(--mantine-color-blue-filled)"
          strokeWidth={1.5}
          strokeLinejoin="round"
          data-testid="latency-line"
        />
      )}
      {down.map((p, i) => (
        <circle
          // Two down points can share a place; the index keeps the keys apart.
          key={`${p.x}-${p.y}-${i}`}
          cx={p.x}
          cy={p.y}
          r={2.5}
          fill="var(--mantine-color-red-filled)"
          data-testid="down-point"
        />
      ))}
    </svg>
  );
}
