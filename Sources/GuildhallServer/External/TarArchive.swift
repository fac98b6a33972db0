import Foundation
import Gzip

/// Unpacks a tar archive (gzip-compressed or not) into a folder, reading the format itself — ustar, POSIX pax and
/// GNU long names — as it streams: never a listing meant for people, never the whole archive in memory. Only files
/// and folders are accepted, inside the folder, without set-id bits, within the limits given; anything else refuses
/// the archive with the reason (what was written so far is the caller's to remove).
struct TarArchive {
    struct Limits {
        var maxMembers: Int
        var maxUnpackedBytes: Int
    }

    /// Why an archive was refused.
    struct Refusal: Error, CustomStringConvertible {
        var description: String
    }

    /// Unpacks `archive` into `folder` (which exists); answers how many members it held.
    static func unpack(_ archive: URL, into folder: URL, limits: Limits) throws -> Int {
        let input = try ArchiveInput(archive)
        var members = 0
        var unpacked = 0
        var longName: String?
        var paxPath: String?
        var paxSize: Int?
        while true {
            guard let header = try input.read(512) else { throw Refusal(description: "the archive ends without its end marker") }
            guard header.count == 512 else { throw Refusal(description: "the archive is cut short") }
            if header.allSatisfy({ $0 == 0 }) { return members }
            guard checksumMatches(header) else { throw Refusal(description: "a member's header is damaged (its checksum does not match)") }
            let type = header[156]
            let size = try paxSize ?? number(header, 124, 12, field: "size")
            let dataBlocks = (size + 511) / 512 * 512
            switch type {
            case UInt8(ascii: "x"), UInt8(ascii: "L"):
                // Metadata of the next member: its pax records, or its GNU long name.
                guard size <= 65_536, let data = try input.read(dataBlocks), data.count == dataBlocks else {
                    throw Refusal(description: "a member's extended header is too long or cut short")
                }
                let text = Array(data.prefix(size))
                if type == UInt8(ascii: "L") {
                    longName = String(decoding: text.prefix { $0 != 0 }, as: UTF8.self)
                } else {
                    (paxPath, paxSize) = try paxRecords(text)
                }
                continue
            case UInt8(ascii: "g"):
                try input.skip(dataBlocks)  // global pax records say nothing this reader uses
                continue
            default:
                break
            }
            let name = paxPath ?? longName ?? headerName(header)
            (longName, paxPath, paxSize) = (nil, nil, nil)
            members += 1
            guard members <= limits.maxMembers else { throw Refusal(description: "the archive holds more than \(limits.maxMembers) members") }
            let mode = try number(header, 100, 8, field: "mode")
            guard mode & 0o6000 == 0 else { throw Refusal(description: "the member \(name) has a set-id mode") }
            let target = try place(name, in: folder)
            switch type {
            case UInt8(ascii: "0"), 0, UInt8(ascii: "7"):
                guard target != folder else { throw Refusal(description: "a file member has no name") }
                unpacked += size
                guard unpacked <= limits.maxUnpackedBytes else {
                    throw Refusal(description: "the archive unpacks to more than \(limits.maxUnpackedBytes) bytes")
                }
                try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
                try input.copy(size, to: target, executable: mode & 0o111 != 0)
                try input.skip(dataBlocks - size)
            case UInt8(ascii: "5"):
                try FileManager.default.createDirectory(at: target, withIntermediateDirectories: true)
                try input.skip(dataBlocks)
            default:
                throw Refusal(description: "the archive may hold only files and folders; \(name) is a \(kind(type))")
            }
        }
    }

    /// `name` as a path inside `folder`: relative, without `..`, of sensible length.
    private static func place(_ name: String, in folder: URL) throws -> URL {
        let parts = name.split(separator: "/").filter { $0 != "." }
        guard !name.hasPrefix("/"), !parts.contains(".."), name.utf8.count <= 4096, !name.contains("\0") else {
            throw Refusal(description: "the member \(name) lies outside the archive")
        }
        return parts.reduce(folder) { $0.appendingPathComponent(String($1)) }
    }

    private static func headerName(_ header: [UInt8]) -> String {
        func text(_ offset: Int, _ length: Int) -> String {
            String(decoding: header[offset..<(offset + length)].prefix { $0 != 0 }, as: UTF8.self)
        }
        let name = text(0, 100)
        let isUstar = header[257..<262].elementsEqual("ustar".utf8)
        let prefix = isUstar ? text(345, 155) : ""
        return prefix.isEmpty ? name : prefix + "/" + name
    }

    /// An octal field, or a base-256 one (high bit of its first byte set, GNU's form for large numbers).
    private static func number(_ header: [UInt8], _ offset: Int, _ length: Int, field: String) throws -> Int {
        let bytes = header[offset..<(offset + length)]
        if let first = bytes.first, first & 0x80 != 0 {
            var value = Int(first & 0x7F)
            for byte in bytes.dropFirst() {
                guard value < Int.max >> 8 else { throw Refusal(description: "a member's \(field) is out of range") }
                value = value << 8 | Int(byte)
            }
            return value
        }
        let digits = bytes.drop { $0 == 0x20 }.prefix { $0 >= 0x30 && $0 <= 0x37 }
        guard digits.count <= 21 else { throw Refusal(description: "a member's \(field) is out of range") }
        return digits.reduce(0) { $0 << 3 | Int($1 - 0x30) }
    }

    /// The checksum field (offset 148) is the sum of the header's bytes with the field itself read as spaces.
    private static func checksumMatches(_ header: [UInt8]) -> Bool {
        guard let stored = try? number(header, 148, 8, field: "checksum") else { return false }
        let sum = header.enumerated().reduce(0) { $0 + (148..<156 ~= $1.offset ? 0x20 : Int($1.element)) }
        return stored == sum
    }

    /// The `path` and `size` of pax records (`<length> <key>=<value>\n` each).
    private static func paxRecords(_ data: [UInt8]) throws -> (path: String?, size: Int?) {
        var path: String?
        var size: Int?
        var rest = data[...]
        while !rest.isEmpty {
            guard let space = rest.firstIndex(of: 0x20), let length = Int(String(decoding: rest[rest.startIndex..<space], as: UTF8.self)),
                length > 0, length <= rest.count, space + 1 < rest.startIndex + length
            else { throw Refusal(description: "a member's pax header is malformed") }
            let record = rest[(space + 1)..<(rest.startIndex + length)].dropLast()  // the trailing newline
            rest = rest[(rest.startIndex + length)...]
            guard let equals = record.firstIndex(of: UInt8(ascii: "=")) else { continue }
            let key = String(decoding: record[record.startIndex..<equals], as: UTF8.self)
            let value = String(decoding: record[(equals + 1)...], as: UTF8.self)
            if key == "path" { path = value }
            if key == "size" {
                guard let number = Int(value), number >= 0 else { throw Refusal(description: "a member's pax size is malformed") }
                size = number
            }
        }
        return (path, size)
    }

    private static func kind(_ type: UInt8) -> String {
        switch type {
        case UInt8(ascii: "1"): "hard link"
        case UInt8(ascii: "2"): "symbolic link"
        case UInt8(ascii: "3"), UInt8(ascii: "4"): "device"
        case UInt8(ascii: "6"): "pipe"
        default: "member of type '\(String(decoding: [type], as: UTF8.self))'"
        }
    }
}

/// The bytes of an archive file, inflated as they are read when it is gzip-compressed, buffered so the tar reader can
/// take them a header or a piece of a member at a time.
private final class ArchiveInput {
    private let handle: FileHandle
    private let content: ContentReader
    private var buffer: [UInt8] = []
    private var start = 0
    private var atEnd = false

    init(_ file: URL) throws {
        handle = try FileHandle(forReadingFrom: file)
        content = ContentReader(handle: handle, pieceSize: 1 << 16)
    }

    deinit { try? handle.close() }

    /// Up to `count` bytes (fewer only at the end), nil at the end.
    func read(_ count: Int) throws -> [UInt8]? {
        try fill(count)
        guard start < buffer.count else { return nil }
        let end = min(buffer.count, start + count)
        defer { start = end }
        return Array(buffer[start..<end])
    }

    func skip(_ count: Int) throws {
        var left = count
        while left > 0, let piece = try read(min(left, 1 << 16)) { left -= piece.count }
        guard left == 0 else { throw TarArchive.Refusal(description: "the archive is cut short") }
    }

    /// Writes the next `count` bytes to a new file at `target`.
    func copy(_ count: Int, to target: URL, executable: Bool) throws {
        guard FileManager.default.createFile(atPath: target.path, contents: nil, attributes: [.posixPermissions: executable ? 0o755 : 0o644])
        else { throw TarArchive.Refusal(description: "\(target.lastPathComponent) could not be written") }
        let output = try FileHandle(forWritingTo: target)
        defer { try? output.close() }
        var left = count
        while left > 0, let piece = try read(min(left, 1 << 16)) {
            try output.write(contentsOf: piece)
            left -= piece.count
        }
        guard left == 0 else { throw TarArchive.Refusal(description: "the archive is cut short") }
    }

    /// Makes at least `count` bytes ready, unless the input ends first.
    private func fill(_ count: Int) throws {
        if start > 1 << 16 {
            buffer.removeFirst(start)
            start = 0
        }
        do {
            while buffer.count - start < count, !atEnd {
                if try !content.next(into: { buffer.append(contentsOf: $0) }) {
                    try content.finish { buffer.append(contentsOf: $0) }
                    atEnd = true
                }
            }
        } catch {
            throw TarArchive.Refusal(description: "\(error)")
        }
    }
}
