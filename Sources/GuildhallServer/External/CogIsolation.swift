import CSpawn
import Foundation
import PluginAPI
import Synchronization

/// How external cogs are kept from the host and from each other. A host running as root starts each cog as a user of
/// its own (a uid no account uses, derived from the cog's id), with a private data folder: the cog cannot read the
/// host's environment or files, nor another cog's process, secret or folder. A host without that privilege cannot
/// change users: it says so, and loads external cogs only if the operator allowed it (`plugins.allow_unisolated_cogs`).
/// Either way the host marks itself not dumpable, so a process of its own user cannot read its environment in /proc.
struct CogIsolation: Sendable {
    /// What isolation the host gives.
    enum Mode: Sendable, Equatable {
        /// Each cog runs as a user of its own.
        case separateUsers
        /// Cogs run as the host's user; the reason says why.
        case none(reason: String)
    }

    let mode: Mode
    /// Where cog users' ids start; a cog's uid is this plus a number derived from its id.
    let firstUID: UInt32
    /// Whether cogs are loaded without isolation.
    let allowUnisolated: Bool

    static let uidSpan: UInt32 = 1_000_000
    /// The cog each user was given to, shared by copies: two ids that map to one uid must not share a user.
    private let claims = Claims()

    private final class Claims: Sendable {
        let owners = Mutex<[uid_t: String]>([:])
    }

    init(firstUID: UInt32, allowUnisolated: Bool, isRoot: Bool = geteuid() == 0) {
        self.firstUID = firstUID
        self.allowUnisolated = allowUnisolated
        mode = isRoot ? .separateUsers : .none(reason: "the host does not run as root, so it cannot start cogs as users of their own")
        _ = guildhall_protect_process()
    }

    /// The user (and group) `cog` runs as; nil when cogs run as the host's user.
    func user(of cog: String) -> uid_t? {
        guard mode == .separateUsers else { return nil }
        var hash: UInt32 = 2_166_136_261
        for byte in cog.utf8 { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        return firstUID + hash % Self.uidSpan
    }

    /// The user `cog` runs as, given to it for as long as the host runs; a start failure if another cog's id maps to
    /// the same user (unlikely: one in a million per pair; rename one, or move `plugins.cog_user_base`).
    func claimUser(for cog: String) throws -> uid_t? {
        guard let uid = user(of: cog) else { return nil }
        let other: String? = claims.owners.withLock { owners in
            if let owner = owners[uid], owner != cog { return owner }
            owners[uid] = cog
            return nil
        }
        if let other {
            throw CogProcess.StartFailure(description: "its user id \(uid) is cog \(other)'s too; rename one of them")
        }
        return uid
    }

    /// Refuses to start `cog` when it would run unisolated and the operator did not allow that.
    func checkMayStart(_ cog: String) throws {
        guard case .none(let reason) = mode, !allowUnisolated else { return }
        throw CogProcess.StartFailure(
            description: "external cogs are not started without isolation: \(reason). Run the host as root (it starts each cog as a "
                + "user of its own) or set plugins.allow_unisolated_cogs: true to trust installed cogs with the host's user")
    }

    /// Makes `folder` the private folder of `cog`: owned by its user, closed to everyone else.
    func makePrivate(_ folder: URL, for cog: String) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        guard let uid = user(of: cog) else { return }
        try own(folder, by: uid)
    }

    /// Lets cogs' users pass through `folder` to their own folders in it, without reading it.
    func makePassable(_ folder: URL) {
        guard mode == .separateUsers else { return }
        chmod(folder.path, 0o711)
    }

    /// What `GET /api/cogs` shows of an external cog's isolation.
    func describe(_ cog: String) -> JSONValue {
        switch mode {
        case .separateUsers:
            return ["mode": "user", "uid": .int(Int64(user(of: cog) ?? 0))]
        case .none(let reason):
            return ["mode": "none", "reason": .string(reason), "allowed": .bool(allowUnisolated)]
        }
    }

    /// Gives `folder` and everything in it to `uid`, mode 0700 for the folder.
    private func own(_ folder: URL, by uid: uid_t) throws {
        guard chown(folder.path, uid, uid) == 0, chmod(folder.path, 0o700) == 0 else {
            throw CogProcess.StartFailure(description: "cannot give \(folder.path) to the cog's user: errno \(errno)")
        }
        let contents = FileManager.default.enumerator(atPath: folder.path)
        while let name = contents?.nextObject() as? String {
            lchown(folder.appendingPathComponent(name).path, uid, uid)
        }
    }

    /// Whether a user other than the owner and group of `path` may run it: the file and every folder above it must
    /// let others in. A cog's user may not reach programs under a private folder such as /root.
    static func othersMayRun(_ path: String) -> Bool {
        var current = URL(fileURLWithPath: path).resolvingSymlinksInPath()
        var info = stat()
        guard stat(current.path, &info) == 0, info.st_mode & 0o001 != 0 else { return false }
        while current.path != "/" {
            current = current.deletingLastPathComponent()
            guard stat(current.path, &info) == 0, info.st_mode & 0o001 != 0 else { return false }
        }
        return true
    }
}
