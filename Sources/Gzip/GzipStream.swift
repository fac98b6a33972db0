import CZlib
import Foundation

/// Inflates gzip (or zlib) data as it arrives (combat logs, cog archives), in pieces of any size, into a bounded output buffer: a compressed
/// log is never inflated whole in memory. Concatenated gzip members (what `cat a.gz b.gz` makes) are read one after
/// the other.
public final class GzipStream {
    /// What went wrong while inflating.
    public enum Failure: Error, CustomStringConvertible {
        case corrupt(String)
        /// The input ended inside a member.
        case truncated

        public var description: String {
            switch self {
            case .corrupt(let reason): "the gzip data is corrupt (\(reason))"
            case .truncated: "the gzip data ends before its end (a cut download?)"
            }
        }
    }

    private var stream = z_stream()
    private let output: UnsafeMutableRawBufferPointer
    /// Whether the current member has ended and no byte of another has been read.
    private var atMemberEnd = false

    public init(outputSize: Int = 1 << 20) throws {
        output = .allocate(byteCount: outputSize, alignment: 16)
        // 15 + 32: a window of 32 KB, and a gzip or zlib header detected automatically.
        guard inflateInit2_(&stream, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            output.deallocate()
            throw Failure.corrupt("zlib could not start")
        }
    }

    deinit {
        inflateEnd(&stream)
        output.deallocate()
    }

    /// Whether `head` starts a gzip member (its magic bytes).
    public static func isGzip(_ head: some Collection<UInt8>) -> Bool {
        head.count >= 2 && head[head.startIndex] == 0x1F && head[head.index(after: head.startIndex)] == 0x8B
    }

    /// Inflates `input`, handing each piece of output to `sink` (valid only during the call).
    public func inflate(_ input: UnsafeRawBufferPointer, into sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        _ = try inflate(input, upTo: .max, into: sink)
    }

    /// Inflates from `input` until it is used up or about `limit` bytes have come out (a piece of output more at
    /// most), handing each piece to `sink`; answers how many bytes of `input` were used. A few compressed bytes can
    /// stand for gigabytes: the caller takes the output a bounded piece at a time.
    public func inflate(_ input: UnsafeRawBufferPointer, upTo limit: Int, into sink: (UnsafeRawBufferPointer) throws -> Void) throws -> Int {
        guard let base = input.baseAddress, !input.isEmpty else { return 0 }
        stream.next_in = UnsafeMutablePointer(mutating: base.assumingMemoryBound(to: Bytef.self))
        stream.avail_in = uInt(input.count)
        var inflated = 0
        while stream.avail_in > 0 && inflated < limit {
            if atMemberEnd {
                // Another member follows (or padding zeros, which gzip tolerates and so do we).
                if stream.next_in.pointee == 0 { return input.count }
                guard inflateReset(&stream) == Z_OK else { throw Failure.corrupt("could not read the next member") }
                atMemberEnd = false
            }
            stream.next_out = output.baseAddress!.assumingMemoryBound(to: Bytef.self)
            stream.avail_out = uInt(output.count)
            let status = CZlib.inflate(&stream, Z_NO_FLUSH)
            let produced = output.count - Int(stream.avail_out)
            inflated += produced
            if produced > 0 { try sink(UnsafeRawBufferPointer(rebasing: output[0..<produced])) }
            switch status {
            case Z_OK, Z_BUF_ERROR: continue
            case Z_STREAM_END: atMemberEnd = true
            default:
                throw Failure.corrupt(stream.msg.map { String(cString: $0) } ?? "status \(status)")
            }
        }
        return input.count - Int(stream.avail_in)
    }

    /// Checks the data ended where a member ends; ``Failure/truncated`` otherwise. Drains what zlib still holds.
    public func finish(into sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        while !atMemberEnd {
            stream.next_out = output.baseAddress!.assumingMemoryBound(to: Bytef.self)
            stream.avail_out = uInt(output.count)
            let status = CZlib.inflate(&stream, Z_FINISH)
            let produced = output.count - Int(stream.avail_out)
            if produced > 0 { try sink(UnsafeRawBufferPointer(rebasing: output[0..<produced])) }
            if status == Z_STREAM_END { atMemberEnd = true } else if produced == 0 { throw Failure.truncated }
        }
    }
}
