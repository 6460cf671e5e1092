// A Histogram with prom-client's public interface whose observations are counted in plain
// arrays. prom-client's own observe() validates and hashes the labels and allocates on every
// call, ~300 ns against ~30 ns here (bench/metrics.bench.js); with the three observations of
// every reconcile pass that was ~10 % more CPU per event on the watch pipeline. It registers
// on the Registry like any metric and is read through get(), so a scrape shows exactly what
// prom-client's Histogram shows for the same observations (test/controller/metrics.test.ts).
import type {Histogram, ObserveDataWithExemplar, Registry} from 'prom-client'

type Labels<L extends string> = Partial<Record<L, string | number>>

export interface CountingHistogramOptions<L extends string> {
  name: string
  help: string
  labelNames: readonly L[]
  /** Upper bounds, ascending; +Inf is implied. */
  buckets: readonly number[]
  registers: readonly Registry[]
}

/** The observations of one label set: per-bucket (not cumulative) counts, sum and count. */
interface Series {
  key: string
  labels: Labels<string>
  counts: number[]
  sum: number
  count: number
  /** False once reset() or remove() dropped it: listed again at its next observation, as in prom-client. */
  listed: boolean
}

type Exported = Awaited<ReturnType<Histogram['get']>>

/** One value of get(), as prom-client's Histogram gives it (exemplar included). */
interface ExportedValue {
  labels: Labels<string>
  value: number
  metricName: string
  exemplar: null | undefined
}

export class CountingHistogram<L extends string> implements Histogram<L> {
  readonly name: string
  readonly help: string
  readonly type = 'histogram'
  readonly aggregator = 'sum'
  private readonly labelNames: readonly L[]
  private readonly known: ReadonlySet<string>
  private readonly bounds: readonly number[]
  private readonly series = new Map<string, Series>()

  constructor(options: CountingHistogramOptions<L>) {
    this.name = options.name
    this.help = options.help
    this.labelNames = options.labelNames
    this.known = new Set(options.labelNames)
    this.bounds = options.buckets
    for (const registry of options.registers) registry.registerMetric(this)
  }

  observe(labels: Labels<L> | number | ObserveDataWithExemplar<L>, value?: number): void {
    if (typeof labels === 'number') {
      this.record(this.seriesOf({}), labels)
      return
    }
    if ('value' in labels) throw new TypeError(`${this.name}: exemplars are not enabled`)
    this.record(this.seriesOf(labels), value)
  }

  /** The series of `labels` as a handle: observe() through it looks nothing up. */
  labels(first?: Labels<L> | string, ...rest: string[]): Histogram.Internal<L> {
    const labels = this.labelsOf(first, rest)
    const series = this.seriesOf(labels)
    return {
      observe: (value) => this.record(series, value),
      startTimer: () => this.startTimer(labels),
    }
  }

  startTimer(labels: Labels<L> = {}): (end?: Labels<L>) => number {
    const started = process.hrtime.bigint()
    return (end) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9
      this.observe({...labels, ...end}, seconds)
      return seconds
    }
  }

  /** Lists the series of `labels` at zero (dashboards and rate() see it from the start). */
  zero(labels: Labels<L>): void {
    const series = this.seriesOf(labels)
    clear(series)
    this.list(series)
  }

  remove(first?: Labels<L> | string, ...rest: string[]): void {
    const key = this.keyOf(this.labelsOf(first, rest))
    const series = this.series.get(key)
    if (series) series.listed = false
    this.series.delete(key)
  }

  reset(): void {
    for (const series of this.series.values()) {
      series.listed = false
      clear(series)
    }
    this.series.clear()
  }

  get(): Promise<Exported> {
    const {name} = this
    const values: ExportedValue[] = []
    for (const {labels, counts, sum, count} of this.series.values()) {
      let cumulative = 0
      for (const [i, le] of this.bounds.entries()) {
        cumulative += counts[i] ?? 0
        values.push({labels: {le, ...labels}, value: cumulative, metricName: `${name}_bucket`, exemplar: null})
      }
      values.push(
        {labels: {le: '+Inf', ...labels}, value: count, metricName: `${name}_bucket`, exemplar: null},
        {labels: {...labels}, value: sum, metricName: `${name}_sum`, exemplar: undefined},
        {labels: {...labels}, value: count, metricName: `${name}_count`, exemplar: undefined},
      )
    }
    // prom-client's typings give `type` as a numeric enum and `collect` as required; at run
    // time its own metrics return the string (the text format prints it) and no collect.
    const exported: unknown = {name, help: this.help, type: this.type, values, aggregator: this.aggregator}
    return Promise.resolve(exported as Exported)
  }

  private record(series: Series, value: number | undefined): void {
    if (value === undefined || !Number.isFinite(value)) throw new TypeError(`Value is not a valid number: ${value}`)
    this.list(series)
    const bounds = this.bounds
    let i = 0
    while (i < bounds.length && value > (bounds[i] ?? Infinity)) i++
    // Above the last bound: only +Inf (the count), as prom-client does.
    if (i < series.counts.length) series.counts[i] = (series.counts[i] ?? 0) + 1
    series.sum += value
    series.count++
  }

  private list(series: Series): void {
    if (series.listed) return
    series.listed = true
    this.series.set(series.key, series)
  }

  private seriesOf(labels: Labels<L>): Series {
    const key = this.keyOf(labels)
    const found = this.series.get(key)
    if (found) return found
    const series: Series = {key, labels: {...labels}, counts: this.bounds.map(() => 0), sum: 0, count: 0, listed: false}
    this.list(series)
    return series
  }

  /** One string per label set, in labelNames order; a name not in labelNames is an error, as in prom-client. */
  private keyOf(labels: Labels<L>): string {
    for (const name of Object.keys(labels)) {
      if (!this.known.has(name)) {
        throw new Error(`Added label "${name}" is not included in initial labelset: ${JSON.stringify(this.labelNames)}`)
      }
    }
    return this.labelNames.map((name) => (labels[name] === undefined ? '\u0000' : String(labels[name]))).join('\u0001')
  }

  /** Labels given as an object, or as values in labelNames order. */
  private labelsOf(first: Labels<L> | string | undefined, rest: string[]): Labels<L> {
    if (typeof first === 'object') return first
    const values = first === undefined ? rest : [first, ...rest]
    if (values.length !== this.labelNames.length) {
      throw new Error(
        `Invalid number of arguments (${values.length}) for label names (${this.labelNames.length}): ${JSON.stringify(this.labelNames)}`,
      )
    }
    const labels: Labels<L> = {}
    for (const [i, name] of this.labelNames.entries()) labels[name] = values[i]
    return labels
  }
}

function clear(series: Series): void {
  series.counts.fill(0)
  series.sum = 0
  series.count = 0
}
