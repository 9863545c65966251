// The Prometheus text exposition format (0.0.4), written by hand: a family
// is a HELP and a TYPE line, then its samples. Label values from outside are
// escaped as the format says (backslash, double quote, newline).
export type MetricType = 'gauge' | 'counter';

export interface Sample {
  labels?: Record<string, string>;
  value: number;
}

export const EXPOSITION_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

const escapeLabel = (value: string): string => value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

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
    for (const { labels, value } of samples) {
      const set = labels ? Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',') : '';
      this.parts.push(`${name}${set ? `{${set}}` : ''} ${formatValue(value)}\n`);
    }
    return this;
  }

  text(): string {
    return this.parts.join('');
  }
}
