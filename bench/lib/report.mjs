/**
 * Markdown tables of one scenario's results: one row per server, then one
 * ratio row per reverb-ts transport against soketi from the same run.
 */
const format = (value, digits) =>
  value === undefined || Number.isNaN(value) ? 'n/a' : Number(value).toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/**
 * metrics: [{ key, label, digits, better: 'higher' | 'lower' | undefined }]
 * rows: [{ label, kind, values }]
 */
export function table(metrics, rows) {
  const header = `| server | ${metrics.map((metric) => metric.label).join(' | ')} |`;
  const rule = `| --- | ${metrics.map(() => '---:').join(' | ')} |`;
  const lines = rows.map((row) => `| ${row.label} | ${metrics.map((metric) => format(row.values[metric.key], metric.digits ?? 1)).join(' | ')} |`);
  const soketi = rows.find((row) => row.kind === 'soketi');
  if (soketi) {
    for (const row of rows.filter((candidate) => candidate !== soketi)) {
      const ratios = metrics.map((metric) => {
        const ours = row.values[metric.key];
        const theirs = soketi.values[metric.key];
        if (!metric.better || !theirs || Number.isNaN(ours) || Number.isNaN(theirs)) return '';
        return `${format(ours / theirs, 2)}×`;
      });
      lines.push(`| ${row.label} ÷ soketi | ${ratios.join(' | ')} |`);
    }
  }
  return [header, rule, ...lines].join('\n');
}
