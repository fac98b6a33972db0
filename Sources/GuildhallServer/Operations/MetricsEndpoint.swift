import Hummingbird
import Metrics
import PluginAPI
import Prometheus
import Synchronization

/// Prometheus exposition of the process's swift-metrics at `GET /metrics`: HTTP requests by route template and
/// status (with latency histograms) and per guild, events published/delivered/failed per event and cog (and per
/// guild), outbound calls per upstream — recorded where they happen — and, read at each scrape, gateway
/// connections and frames, cog states, the cache, upstream circuits, push and analytics figures.
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

    /// Registers the route; `scrape` records the figures read at scrape time just before they are written out.
    static func register(on routes: CoreRouter, scrape: @escaping @Sendable () -> Void) {
        routes.add(.get, "/metrics", access: .admin, summary: "Prometheus metrics") { _, _ in
            scrape()
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
        }
    }
}

/// Running totals kept elsewhere (atomics, a cache's counters) published as Prometheus counters: each scrape adds
/// what was added since the last one.
final class ScrapedCounters: Sendable {
    private let last = Mutex<[String: Int]>([:])

    func publish(_ label: String, _ total: Int, dimensions: [(String, String)] = []) {
        let key = label + dimensions.map { "|\($0.0)=\($0.1)" }.joined()
        let (delta, first) = last.withLock { last in
            defer { last[key] = total }
            return (total - (last[key] ?? 0), last[key] == nil)
        }
        // The first scrape creates the series even at zero, so dashboards and alerts find it.
        if delta > 0 || first { Counter(label: label, dimensions: dimensions).increment(by: max(0, delta)) }
    }
}

extension GuildhallHost {
    /// The figures `/metrics` reads at each scrape.
    func recordScrapeMetrics(counters: ScrapedCounters) {
        let cache = self.cache.statistics
        Gauge(label: "guildhall_cache_entries").record(cache.entries)
        counters.publish("guildhall_cache_hits_total", cache.hits)
        counters.publish("guildhall_cache_misses_total", cache.misses)
        counters.publish("guildhall_cache_evictions_total", cache.evictions)
        let lookups = cache.hits + cache.misses
        Gauge(label: "guildhall_cache_hit_ratio").record(lookups == 0 ? 0 : Double(cache.hits) / Double(lookups))

        Gauge(label: "guildhall_gateway_connections").record(hub.connected.count)
        counters.publish("guildhall_gateway_frames_total", hub.traffic.framesIn.load(ordering: .relaxed), dimensions: [("direction", "in")])
        counters.publish("guildhall_gateway_frames_total", hub.traffic.framesOut.load(ordering: .relaxed), dimensions: [("direction", "out")])

        for entry in plugins.entries() {
            for state in PluginManager.State.allCases {
                Gauge(label: "guildhall_cog_state", dimensions: [("cog", entry.name), ("state", state.rawValue)])
                    .record(entry.state == state ? 1 : 0)
            }
        }
        for upstream in outboundBreakers.health {
            Gauge(label: "guildhall_upstream_up", dimensions: [("upstream", upstream.upstream)]).record(upstream.open ? 0 : 1)
            Gauge(label: "guildhall_upstream_consecutive_failures", dimensions: [("upstream", upstream.upstream)]).record(upstream.failures)
        }
        let push = notifier.figures
        counters.publish("guildhall_push_total", push.sent, dimensions: [("outcome", "sent")])
        counters.publish("guildhall_push_total", push.failed, dimensions: [("outcome", "failed")])
        counters.publish("guildhall_push_total", push.removed, dimensions: [("outcome", "token_removed")])
        counters.publish("guildhall_push_total", push.dropped, dimensions: [("outcome", "dropped")])
        counters.publish("guildhall_analytics_dropped_total", analytics.dropped)
        Gauge(label: "guildhall_uptime_seconds").record(systemFigures().uptimeSeconds)
        Gauge(label: "guildhall_resident_memory_bytes").record(Self.residentBytes())
    }
}
