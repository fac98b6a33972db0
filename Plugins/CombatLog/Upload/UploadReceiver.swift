import Foundation
import PluginAPI

/// Streams an upload to a file of its own: the multipart form's file part, or the raw body. The first bytes are
/// checked before anything is kept — a file that does not start like a combat log is refused with 422 and removed.
struct UploadReceiver {
    let folder: URL
    let maxBytes: Int64
    /// How much of the start is looked at to tell a combat log from anything else.
    static let sniffBytes = 4096

    struct Received {
        var file: URL
        var fileName: String
        var bytes: Int64
    }

    func receive(_ request: CogRequest, id: String) async throws -> Received {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let file = folder.appendingPathComponent("\(id).log")
        guard FileManager.default.createFile(atPath: file.path, contents: nil, attributes: [.posixPermissions: 0o600]),
            let handle = FileHandle(forWritingAtPath: file.path)
        else { throw APIError(.internalServerError, "storage_unavailable", "The upload could not be stored.") }
        var kept = false
        defer {
            try? handle.close()
            if !kept { try? FileManager.default.removeItem(at: file) }
        }
        var multipart = request.headers[.contentType].flatMap(MultipartFileStream.init(contentType:))
        var head: [UInt8] = []
        var checked = false
        var bytes: Int64 = 0
        func write(_ data: UnsafeRawBufferPointer) throws {
            guard !data.isEmpty else { return }
            bytes += Int64(data.count)
            guard bytes <= maxBytes else {
                throw APIError(.contentTooLarge, "payload_too_large", "The log is larger than \(maxBytes) bytes.")
            }
            if !checked {
                head.append(contentsOf: data.prefix(Self.sniffBytes - head.count))
                if head.count >= Self.sniffBytes {
                    try check(head)
                    checked = true
                }
            }
            try Self.writeAll(handle, data)
        }
        do {
            for try await buffer in request.body {
                if multipart != nil {
                    let part = try buffer.withUnsafeReadableBytes { try multipart!.feed($0) }
                    try part.withUnsafeBytes(write)
                    if multipart!.isDone { break }
                } else {
                    try buffer.withUnsafeReadableBytes(write)
                }
            }
            try multipart?.finish()
        } catch let failure as MultipartFileStream.Failure {
            guard case .malformed(let reason) = failure else { throw failure }
            throw APIError(.badRequest, "invalid_upload", "The form could not be read: \(reason).")
        }
        if !checked { try check(head) }
        kept = true
        let declared = multipart?.fileName ?? request.headers[.fileName] ?? request.query["file_name"]
        return Received(file: file, fileName: Self.safeName(declared), bytes: bytes)
    }

    private func check(_ head: [UInt8]) throws {
        guard !head.isEmpty else { throw APIError.badRequest("empty_upload", "The upload is empty.") }
        guard CombatLogFile.looksLikeCombatLog(head) else {
            throw APIError(
                .unprocessableContent, "not_a_combat_log",
                "This is not a combat log: its first line should be `<timestamp>  <EVENT>,...` as WoWCombatLog.txt writes.")
        }
    }

    private static func writeAll(_ handle: FileHandle, _ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let written = Foundation.write(handle.fileDescriptor, bytes.baseAddress! + offset, bytes.count - offset)
            guard written > 0 else { throw APIError(.internalServerError, "storage_unavailable", "The upload could not be stored.") }
            offset += written
        }
    }

    /// A file name fit to show back: the last path component, printable, at most 200 characters.
    static func safeName(_ declared: String?) -> String {
        let last = (declared ?? "").split(separator: "/").last.map(String.init) ?? ""
        let printable = String(last.unicodeScalars.filter { $0.value >= 32 && $0.value != 127 }.map(Character.init)).prefix(200)
        return printable.isEmpty ? "WoWCombatLog.txt" : String(printable)
    }
}

extension HTTPField.Name {
    static let fileName = Self("X-File-Name")!
}
