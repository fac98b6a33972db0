import Foundation
import Synchronization

/// `logging.file`: every record the rings keep (info and above, host and cogs) also appended to a file as one JSON
/// line `{"timestamp","level","cog","message"}`, so `GET /api/logs` reaches back past the rings and across restarts.
/// At `max_bytes` the file moves to `<file>.1` (replacing the previous one) and a new one starts.
final class LogFile: Sendable {
    let path: String
    let maxBytes: Int
    private let handle: Mutex<(file: FileHandle?, size: Int)>

    /// Opens (creating) `path` for appending; nil when it cannot be opened, which the host reports at start.
    init?(path: String, maxBytes: Int) {
        let url = URL(fileURLWithPath: path)
        try? FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        if !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o640]) else { return nil }
        }
        guard let file = FileHandle(forWritingAtPath: path) else { return nil }
        let size = (try? file.seekToEnd()).map(Int.init) ?? 0
        self.path = path
        self.maxBytes = max(4096, maxBytes)
        self.handle = Mutex((file, size))
    }

    func append(_ record: CogLogs.Record, source: String) {
        var line = Data((try? JSONSerialization.data(
            withJSONObject: ["timestamp": record.timestamp, "level": record.level, "cog": source, "message": record.message],
            options: [.sortedKeys])) ?? Data())
        line.append(0x0A)
        handle.withLock { state in
            if state.size + line.count > maxBytes {
                try? state.file?.close()
                try? FileManager.default.removeItem(atPath: path + ".1")
                try? FileManager.default.moveItem(atPath: path, toPath: path + ".1")
                _ = FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o640])
                state = (FileHandle(forWritingAtPath: path), 0)
            }
            try? state.file?.write(contentsOf: line)
            state.size += line.count
        }
    }

    /// The records of the newest `tailBytes` of the file (and of `<file>.1` when the file holds less), oldest first.
    func records(tailBytes: Int = 8 << 20) -> [(source: String, record: CogLogs.Record)] {
        var lines: [Substring] = []
        var budget = tailBytes
        for file in [path, path + ".1"] where budget > 0 {
            guard let reader = FileHandle(forReadingAtPath: file) else { continue }
            defer { try? reader.close() }
            let size = Int((try? reader.seekToEnd()) ?? 0)
            let start = max(0, size - budget)
            try? reader.seek(toOffset: UInt64(start))
            let text = String(decoding: (try? reader.readToEnd()) ?? Data(), as: UTF8.self)
            var chunk = text.split(separator: "\n", omittingEmptySubsequences: true)
            if start > 0, !chunk.isEmpty { chunk.removeFirst() }  // a line cut in half
            lines = chunk + lines
            budget -= size
        }
        return lines.compactMap { line in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String],
                let timestamp = object["timestamp"], let level = object["level"], let message = object["message"]
            else { return nil }
            return (object["cog"] ?? "host", CogLogs.Record(timestamp: timestamp, level: level, message: message))
        }
    }
}
