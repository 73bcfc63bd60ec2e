/**
 * Markdown tables of one scenario's results: one row per server, then one
 * ratio row per other server against the baseline from the same run
 * (soketi, or one server for the cluster scenario).
 */
/** Columns several scenarios report (same key, label and sense), so that their tables read alike. */
export const COLUMNS = {
  delivered: { key: 'perSecond', label: 'delivered msgs/s', digits: 0, better: 'higher' },
  cpuPerMillion: { key: 'cpuPerMillion', label: 'server CPU s / M msgs', digits: 2, better: 'lower' },
  p50: { key: 'p50', label: 'p50 ms', digits: 2, better: 'lower' },
  p99: { key: 'p99', label: 'p99 ms', digits: 2, better: 'lower' },
  missing: { key: 'missing', label: 'missing msgs', digits: 0 },
};

/** Not measured in this row (undefined) prints as –, a measurement that gave no number (NaN) as n/a. */
const format = (value, digits) => {
  if (value === undefined || value === '') return '–';
  if (digits === 'text') return String(value).replaceAll('|', '\\|');
  if (Number.isNaN(value)) return 'n/a';
  return Number(value).toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
};

/**
 * metrics: [{ key, label, digits, better: 'higher' | 'lower' | undefined }]
 * rows: [{ label, kind, values }]; `baseline`: the kind of the row the ratios
 * divide by; `rowHeading`: what the rows are (servers, or the phases of one run).
 * A metric with `digits: 'text'` prints its value as it is.
 */
export function table(metrics, rows, baseline = 'soketi', rowHeading = 'server') {
  const header = `| ${rowHeading} | ${metrics.map((metric) => metric.label).join(' | ')} |`;
  const rule = `| --- | ${metrics.map(() => '---:').join(' | ')} |`;
  const lines = rows.map((row) => `| ${row.label} | ${metrics.map((metric) => format(row.values[metric.key], metric.digits ?? 1)).join(' | ')} |`);
  const base = rows.find((row) => row.kind === baseline);
  if (base) {
    for (const row of rows.filter((candidate) => candidate !== base)) {
      const ratios = metrics.map((metric) => {
        const ours = row.values[metric.key];
        const theirs = base.values[metric.key];
        if (!metric.better || !theirs || Number.isNaN(ours) || Number.isNaN(theirs)) return '';
        return `${format(ours / theirs, 2)}×`;
      });
      lines.push(`| ${row.label} ÷ ${baseline} | ${ratios.join(' | ')} |`);
    }
  }
  return [header, rule, ...lines].join('\n');
}
