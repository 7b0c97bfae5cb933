/**
 * Formats an instant as ISO-8601 local time with the zone's offset and whole seconds
 * (`2026-03-08T01:59:59-05:00`), as Shopify prints shop times. Offsets are cached per
 * 15-minute slot: zones only change offset on such boundaries.
 */
const formatters = new Map<string, Intl.DateTimeFormat>();
const offsets = new Map<string, Map<number, number>>();
const SLOT = 15 * 60_000;

export function zonedIso(ms: number, timeZone: string): string {
  const offset = offsetMinutes(ms, timeZone);
  const wall = new Date(Math.floor(ms / 1000) * 1000 + offset * 60_000).toISOString().slice(0, 19);
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  return `${wall}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** Offset of the zone at an instant, in minutes east of UTC. */
export function offsetMinutes(ms: number, timeZone: string): number {
  const slot = Math.floor(ms / SLOT);
  let zone = offsets.get(timeZone);
  if (!zone) {
    zone = new Map();
    offsets.set(timeZone, zone);
  }
  const cached = zone.get(slot);
  if (cached !== undefined) return cached;
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, format);
  }
  const parts: Record<string, number> = {};
  for (const part of format.formatToParts(new Date(ms))) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  const wall = Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!);
  const minutes = Math.round((wall - Math.floor(ms / 1000) * 1000) / 60_000);
  if (zone.size > 100_000) zone.clear();
  zone.set(slot, minutes);
  return minutes;
}

function pad(value: number): string {
  return String(value).padStart(2, '0');
}
