// Numbers, times and labels as a reader wants them.

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const timeOnly = new Intl.DateTimeFormat(undefined, { timeStyle: 'medium' });
const integer = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
const compact = new Intl.NumberFormat(undefined, { notation: 'compact', maximumFractionDigits: 1 });

export const score = (value) => (value ?? 0).toFixed(1);

export const signed = (value) => {
  const v = value ?? 0;
  if (Math.abs(v) < 0.05) return '±0.0';
  return `${v > 0 ? '+' : '−'}${Math.abs(v).toFixed(1)}`;
};

export const percent = (share) => `${((share ?? 0) * 100).toFixed(0)}%`;

export const count = (value) => integer.format(value ?? 0);

export const when = (iso) => (iso ? dateTime.format(new Date(iso)) : '—');

export const clock = (date) => timeOnly.format(date);

/** "3 hours ago" relative to reference (an ISO instant, or now). */
export function ago(iso, reference) {
  if (!iso) return '';
  const then = Date.parse(iso);
  const now = reference ? Date.parse(reference) : Date.now();
  const seconds = Math.round((now - then) / 1000);
  const abs = Math.abs(seconds);
  const suffix = seconds >= 0 ? 'ago' : 'later';
  if (abs < 60) return seconds >= 0 ? 'just now' : 'in a moment';
  const units = [[86400 * 365, 'year'], [86400 * 30, 'month'], [86400, 'day'], [3600, 'hour'], [60, 'minute']];
  for (const [size, name] of units) {
    if (abs >= size) {
      const n = Math.floor(abs / size);
      return `${n} ${name}${n === 1 ? '' : 's'} ${suffix}`;
    }
  }
  return '';
}

export const kinds = {
  company: { one: 'Company', many: 'Companies' },
  person: { one: 'Person', many: 'People' },
  organization: { one: 'Organization', many: 'Organizations' },
  product: { one: 'Product', many: 'Products' },
};

export const kindLabel = (kind) => kinds[kind]?.one ?? kind ?? '';

export const categories = {
  operational: { label: 'Operational', about: 'outages, cyberattacks, product failures, incidents' },
  market: { label: 'Market', about: 'sales and stock drops' },
  financial: { label: 'Financial', about: 'net-worth losses' },
  reputational: { label: 'Reputational', about: 'protests, statements' },
};

/** The category each event type counts in (as the scoring model has it: EventTypes.CategoryOf). */
const typeCategories = {
  outage: 'operational',
  cyberattack: 'operational',
  'product-failure': 'operational',
  incident: 'operational',
  'sales-change': 'market',
  'stock-change': 'market',
  'net-worth-change': 'financial',
  protest: 'reputational',
  statement: 'reputational',
};

export const categoryOf = (type) => typeCategories[type] ?? 'operational';

export const categoryLabel = (category) => categories[category]?.label ?? category ?? '';

const eventTypes = {
  outage: 'Outage',
  cyberattack: 'Cyberattack',
  protest: 'Protest',
  'sales-change': 'Sales change',
  'stock-change': 'Stock change',
  'net-worth-change': 'Net-worth change',
  'product-failure': 'Product failure',
  statement: 'Statement',
  incident: 'Detected incident',
};

export const eventTypeLabel = (type) => eventTypes[type] ?? type;

const regionNames = typeof Intl.DisplayNames === 'function' ? new Intl.DisplayNames(['en'], { type: 'region' }) : null;

export function regionLabel(code) {
  if (!code) return '';
  if (code === 'GLOBAL') return 'Global (no region)';
  try {
    const name = regionNames?.of(code);
    return name && name !== code ? `${name} (${code})` : code;
  } catch {
    return code;
  }
}

/** The country's name alone ("Germany"), or the label for GLOBAL. */
export function regionName(code) {
  if (code === 'GLOBAL') return 'no region';
  try {
    return regionNames?.of(code) ?? code;
  } catch {
    return code;
  }
}

/** The map's colour classes for region scores: bin 0 is no impact, 1–5 rise with the score. */
export const regionBins = [
  { bin: 1, label: 'under 10' },
  { bin: 2, label: '10 to 25' },
  { bin: 3, label: '25 to 50' },
  { bin: 4, label: '50 to 75' },
  { bin: 5, label: '75 to 100' },
];

export function regionBin(score) {
  if (!(score > 0)) return 0;
  if (score < 10) return 1;
  if (score < 25) return 2;
  if (score < 50) return 3;
  if (score < 75) return 4;
  return 5;
}

const usd = (value) => `${value < 0 ? '−' : ''}$${compact.format(Math.abs(value))}`;

/** One line about an event's own data: "20,000 reports (usual 500), 120 min". */
export function eventSummary(event) {
  const d = event.data ?? {};
  switch (event.type) {
    case 'outage':
      return [`${count(d.reports)} outage reports`, d.baselineReports != null ? `usual ${count(d.baselineReports)}` : null,
        d.durationMinutes != null ? `${count(d.durationMinutes)} min` : null].filter(Boolean).join(', ');
    case 'cyberattack':
      return [d.claimed ? 'claimed' : 'reported', d.attribution ? `attributed to ${d.attribution}` : null].filter(Boolean).join(', ');
    case 'protest':
      return [d.participants != null ? `${count(d.participants)} participants` : null, d.locations != null ? `${count(d.locations)} locations` : null]
        .filter(Boolean).join(', ');
    case 'sales-change':
      return [`sales ${d.percent > 0 ? '+' : ''}${d.percent}%`, d.period ? `(${d.period})` : null, d.units != null ? `${count(d.units)} units` : null]
        .filter(Boolean).join(' ');
    case 'stock-change':
      return [`stock ${d.percent > 0 ? '+' : ''}${d.percent}%`, d.closePrice != null ? `closed at ${d.closePrice}` : null].filter(Boolean).join(', ');
    case 'net-worth-change':
      return [`net worth ${usd(d.deltaUsd ?? 0)}`, d.netWorthUsd != null ? `now ${usd(d.netWorthUsd)}` : null].filter(Boolean).join(', ');
    case 'product-failure':
    case 'statement':
      return [d.severity, d.description].filter(Boolean).join(': ');
    case 'incident':
      return `${d.status === 'resolved' ? 'resolved' : 'detected'}: ${count(d.reports)} reports against a usual ${count(d.baselineMean)} (z = ${(d.zScore ?? 0).toFixed(1)})`;
    default:
      return '';
  }
}
