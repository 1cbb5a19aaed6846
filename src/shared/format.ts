/** Byte counts as people read them, the same in every message and on screen: "69 bytes", "48 KB", "1.5 MB", "111.8 GB". */
export function formatBytes(n: number): string {
  const oneDecimal = (v: number) => v.toFixed(1).replace(/\.0$/, '');
  if (n < 1024) return `${n} bytes`;
  if (n < 1024 ** 2) return `${Math.round(n / 1024)} KB`;
  if (n < 1024 ** 3) return `${oneDecimal(n / 1024 ** 2)} MB`;
  return `${oneDecimal(n / 1024 ** 3)} GB`;
}
