import PluginAPI

/// Whether a cog was built for a contract and a host this one can run: the same major contract version and no
/// newer minor one, and at least the host version the cog asks for.
enum Compatibility {
    /// Throws ``IncompatibleCog`` naming both versions when the cog cannot run here.
    static func check(_ manifest: CogManifest, contract: ContractVersion = .current, host: String = GuildhallHost.version) throws {
        guard manifest.contract.runs(on: contract) else {
            throw IncompatibleCog(
                description: "\(manifest.id) was built for plugin contract \(manifest.contract); this host implements "
                    + "contract \(contract), which runs cogs built for \(contract.major).0 to \(contract)")
        }
        if let minimum = manifest.minimumHostVersion, isOlder(host, than: minimum) {
            throw IncompatibleCog(description: "\(manifest.id) needs Guildhall \(minimum) or later; this is \(host)")
        }
    }

    /// Compares dotted version numbers part by part (`1.2.0` < `1.10.0`).
    static func isOlder(_ version: String, than other: String) -> Bool {
        let left = version.split(separator: ".").map { Int($0) ?? 0 }, right = other.split(separator: ".").map { Int($0) ?? 0 }
        for index in 0..<max(left.count, right.count) {
            let a = index < left.count ? left[index] : 0, b = index < right.count ? right[index] : 0
            if a != b { return a < b }
        }
        return false
    }
}

/// A cog built for another contract or a newer host.
struct IncompatibleCog: Error, CustomStringConvertible {
    let description: String
}
