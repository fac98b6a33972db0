import Foundation
import GuildhallTesting
import PluginAPI
import XCTest

@testable import GuildhallServer

/// Cog archives are read as tar, not as a listing meant for people: an owner name with a space, a member outside
/// the archive, a link, a cut-off archive or one that unpacks to far more than it weighs are refused with the reason,
/// and leave nothing behind.
final class ArchiveHardeningTests: XCTestCase {
    /// A `.tar.gz` made by Python's tarfile from `members` (`(name, type, size)`: type `file`, `dir`, `hardlink`,
    /// `symlink`), the probe cog's files first, every member owned by "guild master" (a name with a space).
    static func craft(_ members: [(String, String, Int)], probe: URL, cut: Bool = false) throws -> Data {
        let output = probe.deletingLastPathComponent().appendingPathComponent("\(UUID().uuidString).tar.gz")
        let script = probe.deletingLastPathComponent().appendingPathComponent("craft.py")
        try """
            import io, json, os, sys, tarfile

            class Zeros(io.RawIOBase):
                def __init__(self, size): self.left = size
                def readable(self): return True
                def readinto(self, buffer):
                    count = min(len(buffer), self.left)
                    buffer[:count] = bytes(count)
                    self.left -= count
                    return count

            def owned(info):
                info.uname = info.gname = "guild master"
                return info

            probe, output, members, cut = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), sys.argv[4] == "1"
            with tarfile.open(output, "w:gz", compresslevel=1) as archive:
                for name in sorted(os.listdir(probe)):
                    archive.add(os.path.join(probe, name), arcname=name, filter=owned)
                for name, kind, size in members:
                    info = owned(tarfile.TarInfo(name))
                    if kind == "dir":
                        info.type = tarfile.DIRTYPE
                    elif kind in ("hardlink", "symlink"):
                        info.type = tarfile.LNKTYPE if kind == "hardlink" else tarfile.SYMTYPE
                        info.linkname = "cog.py"
                    else:
                        info.size = size
                    archive.addfile(info, io.BufferedReader(Zeros(size)) if kind == "file" else None)
            if cut:
                data = open(output, "rb").read()
                open(output, "wb").write(data[: len(data) // 2])
            """.write(to: script, atomically: true, encoding: .utf8)
        let list = String(decoding: try JSONSerialization.data(withJSONObject: members.map { [$0.0, $0.1, $0.2] as [Any] }), as: UTF8.self)
        XCTAssertEqual(try ExternalCogTests.run(["python3", script.path, probe.path, output.path, list, cut ? "1" : "0"]), 0)
        defer { try? FileManager.default.removeItem(at: output) }
        return try Data(contentsOf: output)
    }

    func testHostileArchivesAreRefusedWithTheReasonAndLeaveNothing() async throws {
        let host = try ExternalCogTests.host(load: false)
        defer { host.removeFolder() }
        let probe = host.folder.appendingPathComponent("source/probe")
        try ExternalCogTests.copy(fixture: "probe", into: probe)
        try FileManager.default.removeItem(at: host.folder.appendingPathComponent("plugins/probe"))
        let cases: [(String, Data, String)] = [
            // 600 MiB of zeros weigh about 600 KiB compressed; the owner's space once made its size read as 0.
            ("large", try Self.craft([("padding.bin", "file", 600 << 20)], probe: probe), "unpacks to more than"),
            ("outside", try Self.craft([("../escape.txt", "file", 10)], probe: probe), "lies outside the archive"),
            ("absolute", try Self.craft([("/tmp/escape.txt", "file", 10)], probe: probe), "lies outside the archive"),
            ("hard link", try Self.craft([("again.py", "hardlink", 0)], probe: probe), "hard link"),
            ("symbolic link", try Self.craft([("again.py", "symlink", 0)], probe: probe), "symbolic link"),
            ("cut short", try Self.craft([("data.bin", "file", 200_000)], probe: probe, cut: true), "gzip data"),
        ]
        try await host.run(catalogue: []) { server in
            let admin = try await server.token("admin")
            for (label, archive, reason) in cases {
                let (status, answer) = try await CombatLogStreamsTests.post(
                    archive, to: "/api/cogs/install", port: server.port, token: admin, headers: [("Content-Type", "application/gzip")])
                XCTAssertEqual(status, 400, "\(label): \(answer)")
                XCTAssertEqual(answer["error"], "invalid_archive", label)
                XCTAssertTrue(answer["message"]?.stringValue?.contains(reason) ?? false, "\(label): \(answer)")
            }
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: host.folder.appendingPathComponent("plugins").path)
            XCTAssertEqual(leftovers, [], "a refused install leaves nothing behind")
            // The same owner name on an honest archive installs.
            let honest = try Self.craft([("docs", "dir", 0), ("docs/readme.txt", "file", 100)], probe: probe)
            let (status, answer) = try await CombatLogStreamsTests.post(
                honest, to: "/api/cogs/install", port: server.port, token: admin, headers: [("Content-Type", "application/gzip")])
            XCTAssertEqual(status, 201, "\(answer)")
            let installed = host.folder.appendingPathComponent("plugins/probe")
            XCTAssertEqual(try Data(contentsOf: installed.appendingPathComponent("docs/readme.txt")).count, 100)
            XCTAssertTrue(FileManager.default.fileExists(atPath: installed.appendingPathComponent("cog.yaml").path))
        }
    }
}
