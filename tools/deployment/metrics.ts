/** The plugin's Prometheus series, registered in the server's registry (served at /metrics). */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export class ServingMetrics {
  readonly requests: Counter<'project' | 'deployment' | 'variant' | 'outcome'>;
  readonly latency: Histogram<'project' | 'deployment' | 'variant'>;
  readonly batchSize: Histogram<'project' | 'deployment' | 'variant'>;
  readonly abstained: Counter<'project' | 'deployment' | 'variant'>;
  readonly rejected: Counter<'project' | 'deployment'>;
  readonly logDropped: Counter;
  readonly shadowRuns: Counter<'project' | 'deployment' | 'outcome'>;
  readonly feedback: Counter<'project' | 'deployment' | 'variant' | 'correct'>;

  constructor(registry: Registry, cacheStats: () => { models: number; bytes: number }, logBuffered: () => number) {
    const registers = [registry];
    this.requests = new Counter({ name: 'anvil_deployments_predictions_total', help: 'Predictions served, per deployment variant and outcome (ok, error, rejected).', labelNames: ['project', 'deployment', 'variant', 'outcome'], registers });
    this.latency = new Histogram({
      name: 'anvil_deployments_latency_seconds',
      help: 'Predict latency inside the server (featurise, queue, model run).',
      labelNames: ['project', 'deployment', 'variant'],
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.batchSize = new Histogram({ name: 'anvil_deployments_batch_size', help: 'Rows per model run a prediction went through.', labelNames: ['project', 'deployment', 'variant'], buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256], registers });
    this.abstained = new Counter({ name: 'anvil_deployments_abstained_total', help: 'Predictions that abstained (out of scope).', labelNames: ['project', 'deployment', 'variant'], registers });
    this.rejected = new Counter({ name: 'anvil_deployments_queue_rejected_total', help: 'Requests refused because the batch queue was full (429).', labelNames: ['project', 'deployment'], registers });
    this.logDropped = new Counter({ name: 'anvil_deployments_log_dropped_total', help: 'Prediction log rows dropped (buffer full or write failed).', registers });
    this.shadowRuns = new Counter({ name: 'anvil_deployments_shadow_total', help: 'Mirrored requests run on a shadow variant.', labelNames: ['project', 'deployment', 'outcome'], registers });
    this.feedback = new Counter({ name: 'anvil_deployments_feedback_total', help: 'Feedback joined to predictions.', labelNames: ['project', 'deployment', 'variant', 'correct'], registers });
    new Gauge({ name: 'anvil_deployments_models_loaded', help: 'Model versions loaded in this server.', registers, collect() { this.set(cacheStats().models); } });
    new Gauge({ name: 'anvil_deployments_models_bytes', help: 'Estimated bytes of the loaded model versions.', registers, collect() { this.set(cacheStats().bytes); } });
    new Gauge({ name: 'anvil_deployments_log_buffered', help: 'Prediction log rows waiting to be written.', registers, collect() { this.set(logBuffered()); } });
  }
}
