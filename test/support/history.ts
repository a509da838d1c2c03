// Reading workflow histories as text, for scans that must find no secret or customer data in them.
import { defaultPayloadConverter } from '@temporalio/common';

/** Every string in a history: the events as JSON, and each payload decoded (payload data are bytes). */
export function historyText(history: unknown): string {
  const decoded: string[] = [];
  const walk = (o: unknown): void => {
    if (!o || typeof o !== 'object') return;
    const p = o as { metadata?: unknown; data?: unknown };
    if (p.metadata && p.data instanceof Uint8Array) {
      try {
        decoded.push(JSON.stringify(defaultPayloadConverter.fromPayload(p as never)));
      } catch {
        decoded.push(Buffer.from(p.data).toString('utf8'));
      }
    }
    for (const v of Object.values(o)) walk(v);
  };
  walk(history);
  return JSON.stringify(history, (_k, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : v)) + decoded.join('\n');
}
