import Foundation

/// Pulls the first file part out of a `multipart/form-data` body as it streams past, without holding the body:
/// feed it the body's chunks; it hands back the file's bytes and stops at the part's closing boundary.
struct MultipartFileStream {
    enum Failure: Error {
        case malformed(String)
    }

    private enum State {
        case headers
        case content
        case done
    }

    private let delimiter: [UInt8]
    private var state = State.headers
    private var pending: [UInt8] = []
    /// The file name the part declared.
    private(set) var fileName: String?

    /// The boundary comes from the Content-Type header: `multipart/form-data; boundary=...`.
    init?(contentType: String) {
        guard contentType.lowercased().hasPrefix("multipart/form-data"),
            let range = contentType.range(of: "boundary=", options: .caseInsensitive)
        else { return nil }
        var boundary = contentType[range.upperBound...].prefix { $0 != ";" }.trimmingCharacters(in: .whitespaces)
        if boundary.hasPrefix("\""), boundary.hasSuffix("\""), boundary.count >= 2 { boundary = String(boundary.dropFirst().dropLast()) }
        guard !boundary.isEmpty, boundary.utf8.count <= 200 else { return nil }
        delimiter = Array("\r\n--\(boundary)".utf8)
        // The body starts with the boundary without the line break before it.
        pending = Array("\r\n".utf8)
    }

    var isDone: Bool { if case .done = state { true } else { false } }

    /// The file bytes found in `chunk` (possibly none while headers are read or a boundary may be straddling).
    mutating func feed(_ chunk: UnsafeRawBufferPointer) throws -> [UInt8] {
        guard !isDone else { return [] }
        pending.append(contentsOf: chunk)
        var output: [UInt8] = []
        while true {
            switch state {
            case .headers:
                guard let start = Self.find(delimiter, in: pending, from: 0) else {
                    if pending.count > 64 << 10 { throw Failure.malformed("no multipart boundary where one was expected") }
                    return output
                }
                guard let end = Self.find(Array("\r\n\r\n".utf8), in: pending, from: start + delimiter.count) else {
                    if pending.count - start > 16 << 10 { throw Failure.malformed("a part's headers are too long") }
                    return output
                }
                let headers = String(decoding: pending[(start + delimiter.count)..<end], as: UTF8.self)
                pending.removeFirst(end + 4)
                if let name = Self.fileName(in: headers) {
                    fileName = name
                    state = .content
                } else if headers.hasPrefix("--") {
                    throw Failure.malformed("the form has no file part")
                } else {
                    // A plain form field: skip it, up to the next boundary.
                    guard let next = Self.find(delimiter, in: pending, from: 0) else {
                        pending.removeFirst(max(0, pending.count - delimiter.count))
                        return output
                    }
                    pending.removeFirst(next)
                }
            case .content:
                if let end = Self.find(delimiter, in: pending, from: 0) {
                    output.append(contentsOf: pending[0..<end])
                    pending = []
                    state = .done
                    return output
                }
                // Keep what could be the start of a boundary split across chunks.
                let safe = max(0, pending.count - delimiter.count)
                output.append(contentsOf: pending[0..<safe])
                pending.removeFirst(safe)
                return output
            case .done:
                return output
            }
        }
    }

    /// Called at the end of the body: a file part must have been closed by its boundary.
    func finish() throws {
        guard isDone else { throw Failure.malformed(fileName == nil ? "the form has no file part" : "the upload was cut short") }
    }

    private static func fileName(in headers: String) -> String? {
        for line in headers.split(separator: "\r\n") where line.lowercased().hasPrefix("content-disposition:") {
            guard let range = line.range(of: "filename=\"") else { continue }
            return String(line[range.upperBound...].prefix { $0 != "\"" })
        }
        return nil
    }

    /// The first index of `needle` in `haystack` at or after `from`: memchr to each candidate first byte, then a compare.
    private static func find(_ needle: [UInt8], in haystack: [UInt8], from: Int) -> Int? {
        guard let first = needle.first, haystack.count - from >= needle.count else { return nil }
        return haystack.withUnsafeBytes { bytes in
            needle.withUnsafeBytes { wanted in
                let base = bytes.baseAddress!
                let last = bytes.count - needle.count
                var position = from
                while position <= last {
                    guard let hit = memchr(base + position, Int32(first), last - position + 1) else { return nil }
                    let index = UnsafeRawPointer(hit) - base
                    if memcmp(base + index, wanted.baseAddress!, needle.count) == 0 { return index }
                    position = index + 1
                }
                return nil
            }
        }
    }
}
