import Foundation

/// Reads a file's content a bounded piece at a time, inflating it when it is gzip-compressed (told by its first
/// bytes): a few compressed bytes can stand for gigabytes, so no piece is larger than `pieceSize` and nothing is
/// held whole. Combat log uploads and cog archives are read through it.
public final class ContentReader {
    /// Bytes of the file consumed so far (compressed bytes for a gzip file).
    public private(set) var bytesRead: Int64 = 0
    private let handle: FileHandle
    private let buffer: UnsafeMutableRawBufferPointer
    private let pieceSize: Int
    private var gzip: GzipStream?
    private var started = false
    /// The part of `buffer` read from the file but not inflated yet.
    private var pending = 0..<0

    /// Reads `handle` from where it stands, `pieceSize` bytes of the file (and of content) at a time.
    public init(handle: FileHandle, pieceSize: Int = 1 << 20) {
        self.handle = handle
        self.pieceSize = pieceSize
        buffer = .allocate(byteCount: pieceSize, alignment: 16)
    }

    deinit { buffer.deallocate() }

    /// Whether the content is gzip-compressed (known after the first ``next(into:)``).
    public var isCompressed: Bool { gzip != nil }

    /// Hands the next piece of content to `sink` (valid only during the call); false once the file is read.
    public func next(into sink: (UnsafeRawBufferPointer) throws -> Void) throws -> Bool {
        if let gzip, !pending.isEmpty {
            try inflate(pending, with: gzip, into: sink)
            return true
        }
        var count = 0
        repeat {
            count = Foundation.read(handle.fileDescriptor, buffer.baseAddress, buffer.count)
        } while count < 0 && errno == EINTR
        guard count >= 0 else { throw CocoaError(.fileReadUnknown) }
        guard count > 0 else { return false }
        let chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<count])
        if !started {
            started = true
            if GzipStream.isGzip(chunk) { gzip = try GzipStream(outputSize: pieceSize) }
        }
        if let gzip {
            try inflate(0..<count, with: gzip, into: sink)
        } else {
            bytesRead += Int64(count)
            try sink(chunk)
        }
        return true
    }

    /// Once ``next(into:)`` answered false: hands over what the inflater still holds and checks the gzip data ended
    /// where a member ends (``GzipStream/Failure/truncated`` otherwise). Nothing to do for plain content.
    public func finish(into sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        try gzip?.finish(into: sink)
    }

    /// Inflates a piece's worth of `input` (a range of `buffer`) into `sink`; what is left waits in `pending`.
    private func inflate(_ input: Range<Int>, with gzip: GzipStream, into sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        let used = try gzip.inflate(UnsafeRawBufferPointer(rebasing: buffer[input]), upTo: pieceSize, into: sink)
        bytesRead += Int64(used)
        pending = (input.lowerBound + used)..<input.upperBound
    }
}
