// The vocabulary a cog's routes speak: swift-http-types for methods, header fields and statuses, and NIO's
// `ByteBuffer` for bodies. No server framework's type is part of the contract.
@_exported import HTTPTypes
@_exported import struct NIOCore.ByteBuffer
