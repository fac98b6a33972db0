import Hummingbird
import Metrics
import PluginAPI
import Prometheus
import Synchronization

/// Prometheus exposition of the process's swift-metrics (events published, delivered and failed; listener latency;
/// HTTP requests) at `GET /metrics`.
enum MetricsEndpoint {
    static let registry = PrometheusCollectorRegistry()
    private static let bootstrapped = Mutex(false)

    /// Routes swift-metrics into the registry; once per process (swift-metrics allows one bootstrap).
    static func bootstrap() {
        bootstrapped.withLock { done in
            guard !done else { return }
            MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
            done = true
        }
    }

    static func register(on routes: CoreRouter, cache: LRUCache) {
        routes.add(.get, "/metrics", access: .admin, summary: "Prometheus metrics") { _, _ in
            // The cache keeps its own counters (no metrics call on its hot path); publish them at scrape time.
            let statistics = cache.statistics
            Gauge(label: "guildhall_cache_entries").record(statistics.entries)
            Gauge(label: "guildhall_cache_hits").record(statistics.hits)
            Gauge(label: "guildhall_cache_misses").record(statistics.misses)
            Gauge(label: "guildhall_cache_evictions").record(statistics.evictions)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
        }
    }
}
