// The Prometheus text exposition format (0.0.4), written by hand: a family
// is a HELP and a TYPE line, then its samples. Label values from outside are
// escaped as the format says (backslash, double quote, newline).
export type MetricType = 'gauge' | 'counter';

export interface Sample {
  labels?: Record<string, string>;
  value: number;
}

export const EXPOSITION_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

const NEEDS_ESCAPE = /[\\"\n]/;
const escapeLabel = (value: string): string => (NEEDS_ESCAPE.test(value) ? value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n') : value);

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

export class Exposition {
  private readonly parts: string[] = [];

  family(name: string, type: MetricType, help: string, samples: Iterable<Sample>): this {
    this.parts.push(`# HELP ${name} ${help}\n# TYPE ${name} ${type}\n`);
    // One string per family, built by concatenation: a scrape of 1,000 services is some 12,000 lines.
    let text = '';
    for (const { labels, value } of samples) {
      let set = '';
      if (labels) for (const key in labels) set += `${set ? ',' : ''}${key}="${escapeLabel(labels[key]!)}"`;
      text += `${name}${set ? `{${set}}` : ''} ${formatValue(value)}\n`;
    }
    this.parts.push(text);
    return this;
  }

  text(): string {
    return this.parts.join('');
  }
}
