// The terminal's upload progress bar: a tiny module of its own, so the CLI's entry point can import it
// without loading the asset uploader (and the Storage SDK) on every command.

/** How far one asset's upload has come. */
export interface UploadProgress {
  /** Where in the deployment spec (`code_configuration.code`). */
  path: string;
  bytes: number;
  total: number;
}

/**
 * One line of a terminal progress bar for an upload, e.g.
 * `uploading model.path [##########----------]  50% 1.5 MiB / 3.0 MiB` (no newline; the caller rewrites
 * the line with `\r`).
 */
export function uploadBar(u: UploadProgress, width = 20): string {
  const share = u.total > 0 ? Math.min(1, u.bytes / u.total) : 1;
  const filled = Math.round(share * width);
  return `uploading ${u.path} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.floor(share * 100)).padStart(3)}% ${byteText(u.bytes)} / ${byteText(u.total)}`;
}

function byteText(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}
