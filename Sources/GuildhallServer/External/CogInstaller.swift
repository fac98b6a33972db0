import Crypto
import Foundation
import PluginAPI

/// Installs external cogs into the plugins folder from a `.tar.gz` or a folder, checking everything before anything
/// runs: the archive's SHA-256 when one is given, its members (plain files and folders only, inside the archive),
/// and the manifest. `POST /api/cogs/install`, `DELETE /api/cogs/{name}` and `guildhall cogs install` use it.
struct CogInstaller: Sendable {
    let pluginsDirectory: URL
    /// The most an archive may unpack to (a small archive must not fill the disk).
    var maxUnpackedBytes = 512 << 20
    static let maxMembers = 10_000

    /// An install refused before anything changed, with the reason.
    struct Refusal: Error, CustomStringConvertible {
        var code: String
        var description: String
        var problems: [String] = []
    }


    /// A cog unpacked and checked in a staging folder of the plugins folder, ready to be put in place.
    struct Staged: Sendable {
        let manifest: ExternalManifest
        let stagingRoot: URL
        /// The folder holding `cog.yaml`: the staging folder, or the archive's only folder in it.
        let manifestFolder: URL
    }

    /// Unpacks `archive` (a `.tar.gz`) into staging after checking `sha256` and its members; reads its manifest.
    func stage(archive: URL, sha256: String?) throws -> Staged {
        if let sha256 {
            let actual = try Self.sha256(of: archive)
            guard actual == sha256.lowercased() else {
                throw Refusal(code: "checksum_mismatch", description: "The archive's SHA-256 is \(actual), not \(sha256).")
            }
        }
        let staging = try makeStaging()
        do {
            _ = try TarArchive.unpack(archive, into: staging, limits: .init(maxMembers: Self.maxMembers, maxUnpackedBytes: maxUnpackedBytes))
        } catch {
            try? FileManager.default.removeItem(at: staging)
            let reason = (error as? TarArchive.Refusal)?.description ?? "\(error)"
            throw Refusal(code: "invalid_archive", description: "The archive was refused: \(reason).")
        }
        return try check(staging)
    }

    /// Copies folder `source` (symbolic links followed) into staging and reads its manifest.
    func stage(folder source: URL) throws -> Staged {
        guard FileManager.default.fileExists(atPath: source.appendingPathComponent(ExternalManifest.fileName).path) else {
            throw Refusal(code: "invalid_manifest", description: "\(source.path) holds no \(ExternalManifest.fileName).")
        }
        let staging = try makeStaging()
        let copy = try Self.run(["cp", "-RL", source.path + "/.", staging.path])
        guard copy.status == 0 else {
            try? FileManager.default.removeItem(at: staging)
            throw Refusal(code: "invalid_path", description: "\(source.path) could not be copied: \(copy.output.prefix(200))")
        }
        return try check(staging)
    }

    /// Puts a staged cog in place as `<plugins>/<id>`, keeping the previous version aside; answers how to undo it.
    func place(_ staged: Staged) throws -> (manifest: ExternalManifest, undo: @Sendable () -> Void, commit: @Sendable () -> Void) {
        let target = pluginsDirectory.appendingPathComponent(staged.manifest.cog.id)
        let aside = pluginsDirectory.appendingPathComponent(".previous-\(staged.manifest.cog.id)-\(UUID().uuidString.prefix(8))")
        let manager = FileManager.default
        let hadPrevious = manager.fileExists(atPath: target.path)
        let undo: @Sendable () -> Void = {
            try? FileManager.default.removeItem(at: target)
            if hadPrevious { try? FileManager.default.moveItem(at: aside, to: target) }
        }
        defer { try? manager.removeItem(at: staged.stagingRoot) }
        if hadPrevious { try manager.moveItem(at: target, to: aside) }
        do {
            // The manifest is read again where the cog will run: its folder is part of it.
            try manager.moveItem(at: staged.manifestFolder, to: target)
            let manifest = try ExternalManifest(folder: target)
            return (manifest, undo, commit: { if hadPrevious { try? FileManager.default.removeItem(at: aside) } })
        } catch {
            undo()  // the previous version goes back where it was
            throw error
        }
    }

    /// Removes `<plugins>/<id>`.
    func remove(_ id: String) throws {
        try FileManager.default.removeItem(at: pluginsDirectory.appendingPathComponent(id))
    }

    private func makeStaging() throws -> URL {
        try FileManager.default.createDirectory(at: pluginsDirectory, withIntermediateDirectories: true)
        let staging = pluginsDirectory.appendingPathComponent(".staging-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: false)
        return staging
    }

    /// Finds the manifest at the top of `staging` or of its only folder, and reads it.
    private func check(_ staging: URL) throws -> Staged {
        let manager = FileManager.default
        var root = staging
        if !manager.fileExists(atPath: root.appendingPathComponent(ExternalManifest.fileName).path) {
            let entries = (try? manager.contentsOfDirectory(at: staging, includingPropertiesForKeys: nil)) ?? []
            if entries.count == 1, manager.fileExists(atPath: entries[0].appendingPathComponent(ExternalManifest.fileName).path) {
                root = entries[0]
            }
        }
        do {
            let manifest = try ExternalManifest(folder: root)
            guard !Catalogue.reservedSections.contains(manifest.cog.id) else {
                throw Refusal(code: "invalid_manifest", description: "The id '\(manifest.cog.id)' is the name of a host config section.")
            }
            return Staged(manifest: manifest, stagingRoot: staging, manifestFolder: root)
        } catch let error as ManifestError {
            try? manager.removeItem(at: staging)
            throw Refusal(code: "invalid_manifest", description: "\(error)", problems: error.problems)
        } catch {
            try? manager.removeItem(at: staging)
            throw error
        }
    }

    /// The SHA-256 of a file as lowercase hex, read a megabyte at a time.
    static func sha256(of file: URL) throws -> String {
        let handle = try FileHandle(forReadingFrom: file)
        defer { try? handle.close() }
        var hasher = SHA256()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty { hasher.update(data: chunk) }
        return CogChannel.hex(hasher.finalize())
    }

    /// Runs a system tool (tar, cp); answers its exit status and what it printed.
    private static func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
