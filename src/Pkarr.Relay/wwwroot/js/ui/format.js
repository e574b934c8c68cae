// Numbers, times and durations in words for people. Timestamps are BigInt microseconds since the Unix epoch.

/** A Date from a pkarr timestamp. */
export function dateOf(micros) {
  return new Date(Number(micros / 1000n));
}

/** "2026-12-02 16:30:12 UTC": unambiguous for anyone who shares a screenshot across time zones. */
export function utc(date) {
  return date.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}

/** "3 min ago", "in 2 s" (a publisher's clock may run ahead of ours). */
export function age(date, now = new Date()) {
  const seconds = Math.round((now.getTime() - date.getTime()) / 1000);
  const text = duration(Math.abs(seconds));
  return seconds >= 0 ? `${text} ago` : `in ${text} (the publisher's clock is ahead)`;
}

/** "42 s", "5 min", "3 h 20 min", "2 d 4 h". */
export function duration(seconds) {
  const s = Math.floor(seconds);
  if (s < 60) {
    return `${s} s`;
  }
  if (s < 3600) {
    return `${Math.floor(s / 60)} min`;
  }
  if (s < 86400) {
    const minutes = Math.floor((s % 3600) / 60);
    return `${Math.floor(s / 3600)} h` + (minutes ? ` ${minutes} min` : '');
  }
  const hours = Math.floor((s % 86400) / 3600);
  return `${Math.floor(s / 86400)} d` + (hours ? ` ${hours} h` : '');
}

/** A count with thousands separators. */
export function count(n) {
  return typeof n === 'number' ? n.toLocaleString('en-US') : '—';
}

/** "1 node", "3 nodes". */
export function plural(n, one, many = `${one}s`) {
  return `${count(n)} ${n === 1 ? one : many}`;
}
