/** "12.3 KiB" */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) {
    return `${bytes} bytes`;
  }
  const units = ['KiB', 'MiB', 'GiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(1)} ${units[unit] ?? 'KiB'}`;
}

/** The first 12 characters of a hash, for display. */
export function shortHash(hash: string): string {
  return hash.slice(0, 12);
}
