#if canImport(Glibc)
import Glibc
#endif

/// Resident memory of a process, read from `/proc/<pid>/status` (Linux).
public enum ProcessMemory {
    /// Peak resident set size (`VmHWM`) in bytes, or nil where /proc has no such process.
    public static func peakResidentBytes(pid: Int32) -> Int? { field("VmHWM:", pid: pid) }

    /// Current resident set size (`VmRSS`) in bytes.
    public static func residentBytes(pid: Int32) -> Int? { field("VmRSS:", pid: pid) }

    private static func field(_ name: String, pid: Int32) -> Int? {
        guard let text = readText("/proc/\(pid)/status") else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(name) {
            // "VmHWM:     123456 kB"
            let parts = line.split(separator: " ", omittingEmptySubsequences: true)
            guard parts.count >= 2, let kilobytes = Int(parts[1]) else { return nil }
            return kilobytes * 1_024
        }
        return nil
    }

    private static func readText(_ path: String) -> String? {
        guard let file = fopen(path, "r") else { return nil }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4_096)
        while true {
            let read = fread(&buffer, 1, buffer.count, file)
            if read <= 0 { break }
            bytes.append(contentsOf: buffer[0..<read])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
