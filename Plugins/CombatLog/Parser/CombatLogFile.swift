import Foundation
import Gzip

/// Reading combat logs from files and telling them from other files.
public enum CombatLogFile {
    /// Parses the file at `url` in chunks (memory stays flat whatever the file's size), calling `progress` with
    /// bytes read and the file's size after each chunk and `onEncounter` for each completed pull.
    public static func parse(
        _ url: URL, progress: (Int64, Int64) throws -> Void = { _, _ in }, onEncounter: @escaping (ParsedEncounter) -> Void
    ) throws -> ParseSummary {
        let reader = try CombatLogReader(url, onEncounter: onEncounter)
        while try reader.step() { try progress(reader.bytesRead, reader.size) }
        return reader.finish()
    }

    /// The year of year-less stamps: from a `WoWCombatLog-MMDDYY_HHMMSS.txt` name, else the file's modification date.
    public static func year(for url: URL) -> Int {
        let name = url.lastPathComponent
        if let range = name.range(of: #"-\d{6}_\d{6}"#, options: .regularExpression),
            let yy = Int(name[range].dropFirst(5).prefix(2))
        {
            return 2000 + yy
        }
        let modified = (try? FileManager.default.attributesOfItem(atPath: url.path)[.modificationDate] as? Date) ?? Date()
        return Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: modified).year ?? 2025
    }

    /// Whether `head` (the first bytes of a file, plain or gzip-compressed) starts like a combat log: its first
    /// line a timestamp, two spaces and an upper-case event name followed by a comma.
    public static func looksLikeCombatLog(_ head: [UInt8]) -> Bool {
        guard GzipStream.isGzip(head) else { return startsLikeCombatLog(head) }
        var plain: [UInt8] = []
        guard let stream = try? GzipStream(outputSize: 4096) else { return false }
        _ = try? head.withUnsafeBytes { bytes in
            try stream.inflate(bytes) { piece in if plain.count < 4096 { plain.append(contentsOf: piece.prefix(4096 - plain.count)) } }
        }
        return startsLikeCombatLog(plain)
    }

    private static func startsLikeCombatLog(_ head: [UInt8]) -> Bool {
        var start = 0
        if head.starts(with: [0xEF, 0xBB, 0xBF]) { start = 3 }  // a UTF-8 byte order mark
        let end = head[start...].firstIndex(of: 0x0A) ?? head.count
        let line = Array(head[start..<end])
        guard let separator = (0..<max(0, min(line.count - 1, 40))).first(where: { line[$0] == 0x20 && line[$0 + 1] == 0x20 }) else {
            return false
        }
        var clock = CombatTimestamp(year: 2000)
        let stamped = line.withUnsafeBufferPointer { clock.read($0, end: separator) } != nil
        let name = line[(separator + 2)...].prefix { $0 != UInt8(ascii: ",") }
        return stamped && name.count >= 3 && name.allSatisfy { ($0 >= 65 && $0 <= 90) || $0 == 95 || ($0 >= 48 && $0 <= 57) }
            && separator + 2 + name.count < line.count
    }
}

/// Reads a combat log one chunk at a time — a file or standard input, plain or gzip-compressed (told by its first
/// bytes) — so a caller can do other work (store encounters, report progress, wait for a budget) between chunks.
public final class CombatLogReader {
    public let parser: CombatLogParser
    /// The file's size when opened (compressed, for a gzip file); 0 when unknown (standard input).
    public let size: Int64
    /// Bytes read from the file so far (compressed bytes for a gzip file): progress is `bytesRead / size`.
    public var bytesRead: Int64 { content.bytesRead }
    /// Bytes of log parsed so far: inflated bytes for a gzip file, what limits and budgets count.
    public var bytesParsed: Int64 { parser.summary.bytes }
    private let handle: FileHandle
    private let closesHandle: Bool
    /// The log, a chunk at a time: a gzip chunk can inflate a thousandfold, so a step hands the parser at most a
    /// chunk's size of log.
    private let content: ContentReader

    /// Reads the file at `url`.
    public convenience init(
        _ url: URL, chunkSize: Int = 1 << 20, recapWindowMs: Int64 = 10_000, onEncounter: @escaping (ParsedEncounter) -> Void
    ) throws {
        let size = (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int64) ?? 0
        try self.init(
            handle: try FileHandle(forReadingFrom: url), closing: true, size: size, year: CombatLogFile.year(for: url),
            chunkSize: chunkSize, recapWindowMs: recapWindowMs, onEncounter: onEncounter)
    }

    /// Reads `handle` (standard input: `FileHandle.standardInput`) to its end; `size` 0 when unknown. Stamps
    /// without a year get `year`.
    public init(
        handle: FileHandle, closing: Bool = false, size: Int64 = 0, year: Int, chunkSize: Int = 1 << 20,
        recapWindowMs: Int64 = 10_000, onEncounter: @escaping (ParsedEncounter) -> Void
    ) throws {
        self.handle = handle
        self.closesHandle = closing
        self.size = size
        content = ContentReader(handle: handle, pieceSize: chunkSize)
        parser = CombatLogParser(year: year, recapWindowMs: recapWindowMs, onEncounter: onEncounter)
    }

    deinit {
        if closesHandle { try? handle.close() }
    }

    /// Whether the log is gzip-compressed (known after the first ``step()``).
    public var isCompressed: Bool { content.isCompressed }

    /// Reads and parses the next chunk (at most a chunk's size of inflated log); false once the input is read.
    public func step() throws -> Bool {
        try content.next { parser.consume($0) }
    }

    /// Ends the parse (see ``CombatLogParser/finish()``); a gzip stream cut short is reported as a problem of the
    /// parse, after what could be read of it.
    public func finish() -> ParseSummary {
        do {
            try content.finish { parser.consume($0) }
        } catch {
            parser.report("\(error)")
        }
        return parser.finish()
    }
}
