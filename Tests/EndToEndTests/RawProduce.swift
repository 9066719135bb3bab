import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Test support: one Kafka ProduceRequest (v3, acks=1) written by hand over TCP, carrying a v2
/// record batch whose CRC can be made wrong. librdkafka's producer never sends a corrupt batch;
/// the mock cluster stores a produced batch as it arrives (it checks the magic byte and the
/// record count, not the CRC), so a consumer with `check.crcs=true` meets a batch it cannot
/// read, as after corruption on a broker's disk.
enum RawProduce {
    enum Failure: Error, CustomStringConvertible {
        case connect(String)
        case io(String)
        case refused(errorCode: Int16)

        var description: String {
            switch self {
            case .connect(let text): "connect: \(text)"
            case .io(let text): "io: \(text)"
            case .refused(let code): "ProduceRequest refused with error code \(code)"
            }
        }
    }

    /// Appends one record (`key`, `value`) to `topic`/`partition` on the broker at `address`
    /// (`host:port`; it must lead the partition: use a one-broker dev broker) and returns its
    /// offset. `corruptCRC`: the batch's CRC-32C is inverted.
    static func produce(topic: String, partition: Int32, key: [UInt8], value: [UInt8], corruptCRC: Bool, address: String) throws -> Int64 {
        let batch = recordBatch(key: key, value: value, corruptCRC: corruptCRC)
        var body = Writer()
        body.int16(-1)            // transactional_id: null
        body.int16(1)             // acks
        body.int32(5_000)         // timeout_ms
        body.int32(1)             // one topic
        body.string(topic)
        body.int32(1)             // one partition
        body.int32(partition)
        body.int32(Int32(batch.count))
        body.bytes(batch)
        var request = Writer()
        request.int16(0)          // api_key Produce
        request.int16(3)          // api_version
        request.int32(7)          // correlation_id
        request.string("crmsync-tests-raw")
        request.bytes(body.data)
        var frame = Writer()
        frame.int32(Int32(request.data.count))
        frame.bytes(request.data)

        let response = try exchange(frame.data, address: address)
        // correlation_id, [topic: name, [partition: index, error_code, base_offset, log_append_time]], throttle
        var reader = Reader(bytes: response)
        _ = try reader.int32()
        _ = try reader.int32()
        _ = try reader.string()
        _ = try reader.int32()
        _ = try reader.int32()
        let error = try reader.int16()
        let baseOffset = try reader.int64()
        guard error == 0 else { throw Failure.refused(errorCode: error) }
        return baseOffset
    }

    /// A v2 record batch with one record (no headers).
    static func recordBatch(key: [UInt8], value: [UInt8], corruptCRC: Bool) -> [UInt8] {
        var record = Writer()
        record.int8(0)                       // attributes
        record.varint(0)                     // timestamp delta
        record.varint(0)                     // offset delta
        record.varint(Int64(key.count))
        record.bytes(key)
        record.varint(Int64(value.count))
        record.bytes(value)
        record.varint(0)                     // headers
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        var checked = Writer()               // attributes … records: what the CRC covers
        checked.int16(0)                     // attributes: no compression
        checked.int32(0)                     // last offset delta
        checked.int64(now)                   // base timestamp
        checked.int64(now)                   // max timestamp
        checked.int64(-1)                    // producer id
        checked.int16(-1)                    // producer epoch
        checked.int32(-1)                    // base sequence
        checked.int32(1)                     // record count
        checked.varint(Int64(record.data.count))
        checked.bytes(record.data)
        let crc = crc32c(checked.data) ^ (corruptCRC ? 0xFFFF_FFFF : 0)
        var batch = Writer()
        batch.int64(0)                       // base offset (the broker assigns it)
        batch.int32(Int32(4 + 1 + 4 + checked.data.count))
        batch.int32(-1)                      // partition leader epoch
        batch.int8(2)                        // magic
        batch.int32(Int32(bitPattern: crc))
        batch.bytes(checked.data)
        return batch.data
    }

    /// CRC-32C (Castagnoli), as Kafka's v2 record batches use.
    static func crc32c(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
        }
        return ~crc
    }

    /// Sends `frame` and reads one size-prefixed response.
    private static func exchange(_ frame: [UInt8], address: String) throws -> [UInt8] {
        let parts = address.split(separator: ":")
        guard parts.count == 2, let port = UInt16(parts[1]) else { throw Failure.connect("bad address \(address)") }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure.connect("socket: errno \(errno)") }
        defer { close(fd) }
        var sin = sockaddr_in()
        sin.sin_family = sa_family_t(AF_INET)
        sin.sin_port = port.bigEndian
        guard inet_pton(AF_INET, String(parts[0]), &sin.sin_addr) == 1 else { throw Failure.connect("bad host \(parts[0])") }
        let connected = withUnsafePointer(to: &sin) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw Failure.connect("connect \(address): errno \(errno)") }
        var sent = 0
        while sent < frame.count {
            let n = frame[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { throw Failure.io("send: errno \(errno)") }
            sent += n
        }
        let sizeBytes = try receive(fd, count: 4)
        var sizeReader = Reader(bytes: sizeBytes)
        let size = try sizeReader.int32()
        guard size > 0, size < 1 << 20 else { throw Failure.io("response size \(size)") }
        return try receive(fd, count: Int(size))
    }

    private static func receive(_ fd: Int32, count: Int) throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let n = buffer[filled...].withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { throw Failure.io("recv: errno \(errno) after \(filled) of \(count) bytes") }
            filled += n
        }
        return buffer
    }

    /// Big-endian Kafka protocol encoding.
    struct Writer {
        var data: [UInt8] = []
        mutating func int8(_ value: Int8) { data.append(UInt8(bitPattern: value)) }
        mutating func int16(_ value: Int16) { append(UInt64(UInt16(bitPattern: value)), bytes: 2) }
        mutating func int32(_ value: Int32) { append(UInt64(UInt32(bitPattern: value)), bytes: 4) }
        mutating func int64(_ value: Int64) { append(UInt64(bitPattern: value), bytes: 8) }
        mutating func bytes(_ value: [UInt8]) { data += value }
        mutating func string(_ value: String) {
            int16(Int16(value.utf8.count))
            data += Array(value.utf8)
        }
        /// Zigzag varint (record fields).
        mutating func varint(_ value: Int64) {
            var zigzag = UInt64(bitPattern: (value << 1) ^ (value >> 63))
            while zigzag >= 0x80 {
                data.append(UInt8(zigzag & 0x7F) | 0x80)
                zigzag >>= 7
            }
            data.append(UInt8(zigzag))
        }
        private mutating func append(_ value: UInt64, bytes: Int) {
            for shift in stride(from: (bytes - 1) * 8, through: 0, by: -8) { data.append(UInt8((value >> UInt64(shift)) & 0xFF)) }
        }
    }

    struct Reader {
        let bytes: [UInt8]
        var position = 0
        mutating func take(_ count: Int) throws -> UInt64 {
            guard position + count <= bytes.count else { throw Failure.io("short response") }
            defer { position += count }
            return bytes[position..<position + count].reduce(0) { ($0 << 8) | UInt64($1) }
        }
        mutating func int16() throws -> Int16 { Int16(bitPattern: UInt16(try take(2))) }
        mutating func int32() throws -> Int32 { Int32(bitPattern: UInt32(try take(4))) }
        mutating func int64() throws -> Int64 { Int64(bitPattern: try take(8)) }
        mutating func string() throws -> String {
            let length = Int(try int16())
            guard length >= 0, position + length <= bytes.count else { throw Failure.io("bad string") }
            defer { position += length }
            return String(decoding: bytes[position..<position + length], as: UTF8.self)
        }
    }
}
