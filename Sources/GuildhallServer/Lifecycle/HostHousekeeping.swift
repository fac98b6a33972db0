import Foundation
import Logging
import PluginAPI
import ServiceLifecycle

/// The host's own background work, each loop a ``PeriodicService`` of the host's group (``services(application:)``).
extension GuildhallHost {
    func backgroundLoops() -> [any Service] {
        let hub = self.hub, liveLog = self.liveLog, logger = self.logger, keyValues = external.services.keyValues
        let heartbeat = Duration.seconds(config.gateway.heartbeatTimeoutSeconds)
        let retention = TimeInterval(config.liveLog.retentionDays * 86_400)
        let analyticsStore = AnalyticsStore(database: database, settings: config.analytics)
        return [
            PeriodicService(name: "gateway heartbeat", interval: heartbeat / 4) { hub.closeSilent(longerThan: heartbeat) },
            analytics.flushing,
            notifier,
            PeriodicService(name: "analytics housekeeping", interval: .seconds(3600), runsAtStart: true) { [unowned self] in
                await Self.analyticsHousekeeping(store: analyticsStore, figures: self.systemFigures(), logger: logger)
            },
            PeriodicService(name: "expired keys", interval: .seconds(3600)) {
                do {
                    try await keyValues.purgeExpired()
                } catch {
                    logger.error("external cogs' expired keys not purged", metadata: ["error": "\(error)"])
                }
            },
            PeriodicService(name: "live log retention", interval: .seconds(3600), runsAtStart: true) {
                do {
                    let purged = try await liveLog.store.purge(olderThan: Date().addingTimeInterval(-retention))
                    if purged > 0 { logger.info("live log retention", metadata: ["purged": "\(purged)"]) }
                } catch {
                    logger.error("live log retention failed", metadata: ["error": "\(error)"])
                }
            },
        ]
    }

    /// The hourly analytics job: folds yesterday and today into daily figures, ends idle sessions, deletes what is
    /// past retention and stores a system snapshot.
    static func analyticsHousekeeping(store: AnalyticsStore, figures: SystemFigures, logger: Logger) async {
        do {
            let today = Date()
            for day in [today.addingTimeInterval(-86_400), today] {
                try await store.aggregate(day: String(Timestamp.string(from: day).prefix(10)))
            }
            try await store.tidy()
            try await store.snapshot(figures)
        } catch {
            logger.error("analytics housekeeping failed", metadata: ["error": "\(error)"])
        }
    }

    /// The process's figures now: uptime, memory, connections, cogs and the bus's counts.
    func systemFigures() -> SystemFigures {
        SystemFigures(
            at: Date(), uptimeSeconds: (ContinuousClock.now - startedAt).components.seconds,
            residentBytes: Self.residentBytes(), gatewayConnections: Int64(hub.connected.count),
            cogsLoaded: Int64(plugins.loadedCount), eventsPublished: Int64(bus.totals.published.load(ordering: .relaxed)),
            eventsDelivered: Int64(bus.totals.delivered.load(ordering: .relaxed)),
            eventsFailed: Int64(bus.totals.failed.load(ordering: .relaxed)))
    }

    /// Resident memory from /proc (0 where there is none).
    static func residentBytes() -> Int64 {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8),
            let pages = text.split(separator: " ").dropFirst().first.flatMap({ Int64($0) })
        else { return 0 }
        return pages * Int64(sysconf(Int32(_SC_PAGESIZE)))
    }
}
