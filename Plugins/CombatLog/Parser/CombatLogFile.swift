import Foundation

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

    /// Whether `head` (the first bytes of a file) starts like a combat log: its first line a timestamp, two spaces
    /// and an upper-case event name followed by a comma.
    public static func looksLikeCombatLog(_ head: [UInt8]) -> Bool {
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

/// Reads a combat log file one chunk at a time, so a caller can do other work (store encounters, report progress,
/// wait for a budget) between chunks.
public final class CombatLogReader {
    public let parser: CombatLogParser
    /// The file's size when opened.
    public let size: Int64
    public private(set) var bytesRead: Int64 = 0
    private let handle: FileHandle
    private let buffer: UnsafeMutableRawBufferPointer

    public init(_ url: URL, chunkSize: Int = 1 << 20, onEncounter: @escaping (ParsedEncounter) -> Void) throws {
        handle = try FileHandle(forReadingFrom: url)
        size = (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int64) ?? 0
        parser = CombatLogParser(year: CombatLogFile.year(for: url), onEncounter: onEncounter)
        buffer = .allocate(byteCount: chunkSize, alignment: 16)
    }

    deinit {
        buffer.deallocate()
        try? handle.close()
    }

    /// Reads and parses the next chunk; false once the file is read.
    public func step() throws -> Bool {
        let count = Foundation.read(handle.fileDescriptor, buffer.baseAddress, buffer.count)
        guard count >= 0 else { throw CocoaError(.fileReadUnknown) }
        guard count > 0 else { return false }
        parser.consume(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
        bytesRead += Int64(count)
        return true
    }

    /// Ends the parse (see ``CombatLogParser/finish()``).
    public func finish() -> ParseSummary { parser.finish() }
}
